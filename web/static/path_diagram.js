// A diagram with the path an instance took (bpmn-js viewer): the dry run's and the admin console's instance
// page. #diagram names its JSON block (data-state: path [[id, came from]], current, due [{id, kind, at}], and
// optionally failed and suspended) and the prefix of its markers' CSS classes (data-prefix).
(function () {
  var element = document.getElementById('diagram');
  var dataBlock = element && document.getElementById(element.dataset.state);
  if (!element || !dataBlock || !window.BpmnJS) { return; }
  var state = JSON.parse(dataBlock.textContent);
  var prefix = element.dataset.prefix;

  function mark(canvas, registry, id, marker) {
    if (id && registry.get(id)) { canvas.addMarker(id, prefix + '-' + marker); }
  }

  function markFlows(canvas, registry) {
    // A step came from the previous element: colour the sequence flow joining them, if the diagram has one.
    var pairs = {};
    state.path.forEach(function (step) { if (step[1]) { pairs[step[1] + ' ' + step[0]] = true; } });
    registry.filter(function (item) { return item.type === 'bpmn:SequenceFlow'; }).forEach(function (flow) {
      if (flow.source && flow.target && pairs[flow.source.id + ' ' + flow.target.id]) {
        mark(canvas, registry, flow.id, 'passed');
      }
    });
  }

  function addDueDates(overlays, registry) {
    state.due.forEach(function (due) {
      if (!registry.get(due.id)) { return; }
      var label = document.createElement('div');
      label.className = prefix + '-due ' + due.kind;
      label.textContent = (state.suspended ? '⏸ ' : '⏰ ') + due.at;
      overlays.add(due.id, { position: { bottom: 0, left: 0 }, html: label });
    });
  }

  window.cddhShowDiagram(element, function (viewer) {
    var canvas = viewer.get('canvas');
    var registry = viewer.get('elementRegistry');
    state.path.forEach(function (step) { mark(canvas, registry, step[0], 'passed'); });
    markFlows(canvas, registry);
    state.current.forEach(function (id) { mark(canvas, registry, id, state.suspended ? 'held' : 'current'); });
    state.due.forEach(function (due) { if (due.kind === 'timer') { mark(canvas, registry, due.id, 'waiting'); } });
    (state.failed || []).forEach(function (id) { mark(canvas, registry, id, 'failed'); });
    addDueDates(viewer.get('overlays'), registry);
  });
}());
