// The diff page: draws two versions with the bpmn-js viewer and colours the elements that differ
// (green added, orange changed on the newer version; red removed, orange changed on the older one).
(function () {
  if (!window.BpmnJS) { return; }
  document.querySelectorAll('.diff-diagram').forEach(function (element) {
    var marks = JSON.parse(element.dataset.marks || '{}');
    var show = (element.dataset.show || '').split(' ');
    window.cddhShowDiagram(element, function (viewer) {
      var canvas = viewer.get('canvas');
      var registry = viewer.get('elementRegistry');
      var marked = [];
      show.forEach(function (kind) {
        (marks[kind] || []).forEach(function (id) {
          var shape = registry.get(id);
          if (!shape) { return; }
          // A lane or pool changes whenever a step moves in or out: outline it, do not fill it.
          var container = shape.type === 'bpmn:Lane' || shape.type === 'bpmn:Participant';
          canvas.addMarker(id, 'diff-' + kind + (container ? '-container' : ''));
          marked.push(kind + ':' + id);
        });
      });
      element.dataset.marked = marked.join(' ');
    });
  });
}());
