// The process heatmap (docs/reports.md): colour each step of the diagram by its median wait (the server gives
// the level, 0-4, as the legend says), write its figures on it, and list a step's tasks when it is clicked
// (the part of the page /reports/heatmap/tasks renders). Without scripts the table below does all of this.
(function () {
  var element = document.getElementById('diagram');
  var dataBlock = element && document.getElementById(element.dataset.state);
  if (!element || !dataBlock || !window.BpmnJS) { return; }
  var data = JSON.parse(dataBlock.textContent);
  var words = data.words;
  var decimal = function (value) { return String(value).replace('.', ','); };

  function label(step) {
    var box = document.createElement('div');
    box.className = 'heat-label';
    if (step.median_days === null) {
      box.textContent = words.none;
    } else {
      box.textContent = words.median + ' ' + decimal(step.median_days) + ' ' + words.days + ' · ' +
        words.p90 + ' ' + decimal(step.p90_days);
    }
    var second = document.createElement('div');
    second.textContent = words.overdue + ' ' + step.overdue + ' · ' + words.waiting + ' ' + step.waiting;
    box.appendChild(second);
    return box;
  }

  function showTasks(id) {
    var target = document.getElementById('step-tasks');
    fetch(element.dataset.tasks + '&step=' + encodeURIComponent(id), { credentials: 'same-origin' })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        target.innerHTML = html;
        var title = document.getElementById('step-tasks-title');
        if (title) { title.focus(); }
        document.querySelectorAll('#heatmap-table tr[data-step]').forEach(function (row) {
          row.classList.toggle('chosen', row.dataset.step === id);
        });
      });
  }

  window.cddhShowDiagram(element, function (viewer) {
    var canvas = viewer.get('canvas');
    var registry = viewer.get('elementRegistry');
    var overlays = viewer.get('overlays');
    data.steps.forEach(function (step, i) {
      if (!registry.get(step.bpmn_id)) { return; }
      canvas.addMarker(step.bpmn_id, 'heat-' + data.levels[i]);
      canvas.addMarker(step.bpmn_id, 'heat-step');
      overlays.add(step.bpmn_id, { position: { bottom: -4, left: -10 }, html: label(step) });
    });
    viewer.get('eventBus').on('element.click', function (event) {
      var id = event.element && event.element.id;
      if (data.steps.some(function (step) { return step.bpmn_id === id; })) { showTasks(id); }
    });
  });

  document.querySelectorAll('[data-step-link]').forEach(function (link) {
    link.addEventListener('click', function (event) {
      event.preventDefault();
      showTasks(link.dataset.stepLink);
    });
  });
}());
