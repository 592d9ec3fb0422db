// The spiffworkflow namespace as the engine reads it (docs/spiffworkflow.md, docs/workbench.md):
// a lane's `role` attribute, and <spiffworkflow:properties><spiffworkflow:property name= value=/>
// inside extensionElements. Declared so bpmn-js reads and writes them as typed elements, not as
// opaque XML; anything else from the namespace is still kept as it was (moddle keeps unknown XML).
export default {
  name: 'SpiffWorkflow',
  uri: 'http://spiffworkflow.org/bpmn/schema/1.0/core',
  prefix: 'spiffworkflow',
  xml: { tagAlias: 'lowerCase' },
  associations: [],
  types: [
    {
      name: 'LaneRole',
      extends: ['bpmn:Lane'],
      isAbstract: true,
      properties: [{ name: 'role', isAttr: true, type: 'String' }]
    },
    {
      name: 'Properties',
      superClass: ['Element'],
      meta: { allowedIn: ['*'] },
      properties: [{ name: 'properties', type: 'Property', isMany: true }]
    },
    {
      name: 'Property',
      superClass: ['Element'],
      properties: [
        { name: 'name', isAttr: true, type: 'String' },
        { name: 'value', isAttr: true, type: 'String' }
      ]
    }
  ]
};
