// Reading and writing what the engine reads from an element: spiffworkflow:property values
// (action, formJsonSchemaFilename, dueDate, ...), a timer's expression, a lane's role.
// Every write goes through `modeling`, so it is one undoable command and marks the diagram changed.
import { is, getBusinessObject } from 'bpmn-js/lib/util/ModelUtil';

const PROPERTIES = 'spiffworkflow:Properties';

function propertiesOf(bo) {
  const ext = bo.get('extensionElements');
  return ext ? (ext.get('values') || []).find((v) => is(v, PROPERTIES)) : undefined;
}

/** The value of spiffworkflow:property `name` on an element, or undefined. */
export function getSpiffProperty(element, name) {
  const props = propertiesOf(getBusinessObject(element));
  const found = props && (props.get('properties') || []).find((p) => p.get('name') === name);
  return found ? found.get('value') : undefined;
}

/** Set (or with an empty value remove) spiffworkflow:property `name`, creating the containers when missing. */
export function setSpiffProperty(injector, element, name, value) {
  const modeling = injector.get('modeling');
  const factory = injector.get('bpmnFactory');
  const bo = getBusinessObject(element);
  let ext = bo.get('extensionElements');
  if (!ext) {
    if (!value) { return; }
    ext = factory.create('bpmn:ExtensionElements', { values: [] });
    ext.$parent = bo;
    modeling.updateModdleProperties(element, bo, { extensionElements: ext });
  }
  let props = propertiesOf(bo);
  if (!props) {
    if (!value) { return; }
    props = factory.create(PROPERTIES, { properties: [] });
    props.$parent = ext;
    modeling.updateModdleProperties(element, ext, { values: [...(ext.get('values') || []), props] });
  }
  const list = props.get('properties') || [];
  const existing = list.find((p) => p.get('name') === name);
  if (existing && value) {
    modeling.updateModdleProperties(element, existing, { value });
  } else if (existing) {
    modeling.updateModdleProperties(element, props, { properties: list.filter((p) => p !== existing) });
  } else if (value) {
    const property = factory.create('spiffworkflow:Property', { name, value });
    property.$parent = props;
    modeling.updateModdleProperties(element, props, { properties: [...list, property] });
  }
}

/** The timer event definition of an event, or undefined. */
export function timerDefinition(element) {
  const bo = getBusinessObject(element);
  return (bo.get('eventDefinitions') || []).find((d) => is(d, 'bpmn:TimerEventDefinition'));
}

const TIMER_KINDS = ['timeDate', 'timeDuration', 'timeCycle'];

/** The timer's expression text (whichever of timeDate/timeDuration/timeCycle it has). */
export function getTimerText(element) {
  const timer = timerDefinition(element);
  const kind = timer && TIMER_KINDS.find((k) => timer.get(k));
  return kind ? (timer.get(kind).get('body') || '') : '';
}

/** Write the timer's expression into the kind it already has (timeDate when it has none). */
export function setTimerText(injector, element, text) {
  const modeling = injector.get('modeling');
  const timer = timerDefinition(element);
  const kind = TIMER_KINDS.find((k) => timer.get(k)) || 'timeDate';
  const expression = timer.get(kind);
  if (expression) {
    modeling.updateModdleProperties(element, expression, { body: text });
  } else {
    const created = injector.get('bpmnFactory').create('bpmn:FormalExpression', { body: text });
    created.$parent = timer;
    modeling.updateModdleProperties(element, timer, { [kind]: created });
  }
}

/** A call like after_date("update_grace", due_date) split into its function and arguments. */
export function parseCall(text) {
  const match = /^\s*([A-Za-z_]\w*)\s*\(([\s\S]*)\)\s*$/.exec(text || '');
  if (!match) { return null; }
  const args = match[2].trim() ? match[2].split(',').map((a) => a.trim()) : [];
  return {
    name: match[1],
    args: args.map((a) => {
      const quoted = /^(["'])(.*)\1$/.exec(a);
      return quoted ? { setting: quoted[2] } : { variable: a };
    })
  };
}

/** The call text back from a function name and its arguments. */
export function formatCall(name, args) {
  return `${name}(${args.map((a) => (a.setting !== undefined ? JSON.stringify(a.setting) : a.variable)).join(', ')})`;
}

/** Which parameters of a diagram function name a setting, from its signature "f(setting, since)". */
export function parameterKinds(signature) {
  const match = /\(([^)]*)\)/.exec(signature || '');
  const names = match && match[1].trim() ? match[1].split(',').map((p) => p.trim()) : [];
  // inspect.signature gives "(setting: str, since: str) -> str": the names are before the colons
  return names.map((n) => n.split(/[:=]/)[0].trim()).map((n) => ({ name: n, setting: /setting/.test(n) }));
}

/** Every variable used as a date argument of a call anywhere in the diagram (timers and dueDate). */
export function dateVariables(elementRegistry) {
  const found = new Set();
  elementRegistry.getAll().forEach((element) => {
    const texts = [getSpiffProperty(element, 'dueDate')];
    if (timerDefinition(element)) { texts.push(getTimerText(element)); }
    texts.forEach((t) => {
      const call = parseCall(t);
      (call ? call.args : []).forEach((a) => { if (a.variable && /^[A-Za-z_]\w*$/.test(a.variable)) { found.add(a.variable); } });
    });
  });
  return [...found].sort();
}
