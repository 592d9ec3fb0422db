// Admin console, one instance: draws its diagram (bpmn-js viewer), colours the path taken, the ready tasks,
// the waiting timers and the element that failed, and shows each due date on its element (data from the
// page's JSON block #instance-overlay).
(function () {
  var element = document.getElementById('diagram');
  var dataBlock = document.getElementById('instance-overlay');
  if (!element || !dataBlock || !window.BpmnJS) { return; }
  var state = JSON.parse(dataBlock.textContent);
  var viewer = new window.BpmnJS({ container: element });

  function mark(canvas, registry, id, marker) {
    if (id && registry.get(id)) { canvas.addMarker(id, marker); }
  }

  function markFlows(canvas, registry) {
    // A step came from the previous element: colour the sequence flow joining them, if the diagram has one.
    var pairs = {};
    state.path.forEach(function (step) { if (step[1]) { pairs[step[1] + ' ' + step[0]] = true; } });
    registry.filter(function (item) { return item.type === 'bpmn:SequenceFlow'; }).forEach(function (flow) {
      if (flow.source && flow.target && pairs[flow.source.id + ' ' + flow.target.id]) {
        canvas.addMarker(flow.id, 'instance-passed');
      }
    });
  }

  function addDueDates(overlays, registry) {
    state.due.forEach(function (due) {
      if (!registry.get(due.id)) { return; }
      var label = document.createElement('div');
      label.className = 'instance-due ' + due.kind;
      label.textContent = (state.suspended ? '⏸ ' : '⏰ ') + due.at;
      overlays.add(due.id, { position: { bottom: 0, left: 0 }, html: label });
    });
  }

  fetch(element.dataset.src, { credentials: 'same-origin' })
    .then(function (response) { return response.text(); })
    .then(function (xml) { return viewer.importXML(xml); })
    .then(function () {
      var canvas = viewer.get('canvas');
      var registry = viewer.get('elementRegistry');
      canvas.zoom('fit-viewport');
      state.path.forEach(function (step) { mark(canvas, registry, step[0], 'instance-passed'); });
      markFlows(canvas, registry);
      state.current.forEach(function (id) {
        mark(canvas, registry, id, state.suspended ? 'instance-held' : 'instance-current');
      });
      state.due.forEach(function (due) { if (due.kind === 'timer') { mark(canvas, registry, due.id, 'instance-waiting'); } });
      state.failed.forEach(function (id) { mark(canvas, registry, id, 'instance-failed'); });
      addDueDates(viewer.get('overlays'), registry);
      element.dataset.loaded = 'true';
    })
    .catch(function (error) { element.textContent = String(error); element.dataset.loaded = 'error'; });
}());
