// Draws a diagram with the bpmn-js viewer, for every page that shows one (task, dry run, admin instance,
// version diff, heatmap): fetches the element's data-src, imports it, fits it to the element, then lets the
// page mark it (draw(viewer)). data-loaded says when it is done ('true') or failed ('error', the message
// shown in place), for people and for the browser tests alike.
window.cddhShowDiagram = function (element, draw) {
  var viewer = new window.BpmnJS({ container: element });
  fetch(element.dataset.src, { credentials: 'same-origin' })
    .then(function (response) { return response.text(); })
    .then(function (xml) { return viewer.importXML(xml); })
    .then(function () {
      viewer.get('canvas').zoom('fit-viewport');
      draw(viewer);
      element.dataset.loaded = 'true';
    })
    .catch(function (error) { element.textContent = String(error); element.dataset.loaded = 'error'; });
  return viewer;
};
