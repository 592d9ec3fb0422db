// Shows the process diagram on a task page and marks the task's position (bpmn-js viewer).
(function () {
  var element = document.getElementById('diagram');
  if (!element || !window.BpmnJS) { return; }
  var viewer = new window.BpmnJS({ container: element });
  fetch(element.dataset.src, { credentials: 'same-origin' })
    .then(function (response) { return response.text(); })
    .then(function (xml) { return viewer.importXML(xml); })
    .then(function () {
      var canvas = viewer.get('canvas');
      canvas.zoom('fit-viewport');
      canvas.addMarker(element.dataset.current, 'current-task');
      element.dataset.loaded = 'true';
    })
    .catch(function (error) { element.textContent = String(error); element.dataset.loaded = 'error'; });
}());
