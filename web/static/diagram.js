// Shows the process diagram on a task page and marks the task's position (bpmn-js viewer).
(function () {
  var element = document.getElementById('diagram');
  if (!element || !window.BpmnJS) { return; }
  window.cddhShowDiagram(element, function (viewer) {
    viewer.get('canvas').addMarker(element.dataset.current, 'current-task');
  });
}());
