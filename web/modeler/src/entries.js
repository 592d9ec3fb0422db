// The properties panel entries for what the engine reads, each chosen from the catalog's lists
// (GET /workbench/catalog) rather than typed. Components use the panel's own preact (a second copy
// breaks hooks: /work/shared/design/MODELER.md).
import { h } from '@bpmn-io/properties-panel/preact';
import htm from 'htm';
import { SelectEntry, TextAreaEntry } from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { getBusinessObject } from 'bpmn-js/lib/util/ModelUtil';

import {
  dateVariables, formatCall, getSpiffProperty, parameterKinds, parseCall, setSpiffProperty
} from './extension';

const html = htm.bind(h);

function none(translate) { return { value: '', label: translate('<none>') }; }

// A value the catalog does not list stays visible (marked), so opening a diagram never hides it.
function withCurrent(options, current, translate) {
  if (current && !options.some((o) => o.value === current)) {
    return [...options, { value: current, label: `${current} (${translate('not in the catalog')})` }];
  }
  return options;
}

/** The lane's role: label shown, value written to spiffworkflow:role. */
export function RoleEntry({ element, id }) {
  const translate = useService('translate');
  const modeling = useService('modeling');
  const catalog = useService('cddhCatalog');
  const current = getBusinessObject(element).get('spiffworkflow:role') || '';
  return html`<${SelectEntry} element=${element} id=${id} label=${translate('Role')}
    description=${current ? `${translate('Written as')} spiffworkflow:role="${current}"` : translate('A lane must name its role')}
    getValue=${() => current}
    setValue=${(value) => modeling.updateProperties(element, { 'spiffworkflow:role': value || undefined })}
    getOptions=${() => withCurrent([none(translate), ...catalog.get().roles.map((r) => ({ value: r.value, label: r.label }))], current, translate)} />`;
}

function describeReads(action, translate) {
  const reads = Object.entries((action && action.reads) || {});
  if (!action) { return ''; }
  return reads.length
    ? `${translate('Data it needs')}: ${reads.map(([field, type]) => `${field} (${type})`).join(', ')}`
    : translate('Needs no data');
}

/** The `action` property of an event or a task, with the data the action reads. */
export function ActionEntry({ element, id }) {
  const translate = useService('translate');
  const injector = useService('injector');
  const catalog = useService('cddhCatalog');
  const current = getSpiffProperty(element, 'action') || '';
  const action = catalog.get().actions.find((a) => a.name === current);
  return html`<${SelectEntry} element=${element} id=${id} label=${translate('Action')}
    description=${describeReads(action, translate)}
    getValue=${() => current}
    setValue=${(value) => setSpiffProperty(injector, element, 'action', value)}
    getOptions=${() => withCurrent([none(translate), ...catalog.get().actions.map((a) => ({ value: a.name, label: a.label }))], current, translate)} />`;
}

/** The form (formJsonSchemaFilename) of a user task: a known form or one made in this draft. */
export function FormEntry({ element, id }) {
  const translate = useService('translate');
  const injector = useService('injector');
  const catalog = useService('cddhCatalog');
  const current = getSpiffProperty(element, 'formJsonSchemaFilename') || '';
  return html`<${SelectEntry} element=${element} id=${id} label=${translate('Form')}
    description=${translate('Edit the form beside the diagram')}
    getValue=${() => current}
    setValue=${(value) => setSpiffProperty(injector, element, 'formJsonSchemaFilename', value)}
    getOptions=${() => withCurrent([none(translate), ...catalog.forms().map((f) => ({ value: f, label: f }))], current, translate)} />`;
}

/**
 * A timer text or a due date as a call of a diagram function naming settings:
 * `part` is "function", a setting parameter's index, or "variable" (the date it counts from).
 */
export function CallPartEntry({ element, id, slot, part }) {
  const translate = useService('translate');
  const injector = useService('injector');
  const catalog = useService('cddhCatalog');
  const elementRegistry = useService('elementRegistry');
  const text = slot.get(element) || '';
  const call = parseCall(text) || { name: '', args: [] };
  const fn = catalog.get().functions.find((f) => f.name === call.name);
  const kinds = parameterKinds(fn ? fn.signature : '');
  const write = (name, args) => slot.set(injector, element, formatCall(name, args));

  if (part === 'function') {
    return html`<${SelectEntry} element=${element} id=${id} label=${translate('Function')}
      description=${text ? `${translate('Current text')}: ${text}` : ''}
      getValue=${() => call.name}
      setValue=${(name) => {
        const target = catalog.get().functions.find((f) => f.name === name);
        const params = parameterKinds(target ? target.signature : '');
        const settings = call.args.filter((a) => a.setting !== undefined);
        const variable = call.args.find((a) => a.variable !== undefined);
        let s = 0;
        write(name, params.map((p) => (p.setting
          ? { setting: (settings[s++] || {}).setting || '' }
          : { variable: (variable && variable.variable) || '' })));
      }}
      getOptions=${() => withCurrent([none(translate), ...catalog.get().functions.map((f) => ({ value: f.name, label: `${f.name}(${parameterKinds(f.signature).map((p) => p.name).join(', ')})` }))], call.name, translate)} />`;
  }
  const positions = kinds.map((k, i) => i);
  const settingPositions = positions.filter((i) => kinds[i].setting);
  if (part === 'variable') {
    const index = positions.find((i) => !kinds[i].setting);
    if (index === undefined) { return null; }
    const current = (call.args[index] || {}).variable || '';
    return html`<${SelectEntry} element=${element} id=${id} label=${translate('Counted from (date in the data)')}
      getValue=${() => current}
      setValue=${(value) => { const args = kinds.map((k, i) => call.args[i] || (k.setting ? { setting: '' } : { variable: '' })); args[index] = { variable: value }; write(call.name, args); }}
      getOptions=${() => withCurrent([none(translate), ...dateVariables(elementRegistry).map((v) => ({ value: v, label: v }))], current, translate)} />`;
  }
  const index = settingPositions[part];
  if (index === undefined) { return null; }
  const current = (call.args[index] || {}).setting || '';
  const setting = catalog.get().settings.find((s) => s.name === current);
  return html`<${SelectEntry} element=${element} id=${id} label=${`${translate('Setting')} (${kinds[index].name})`}
    description=${setting ? `${translate('Legal basis')}: ${setting.legal_basis || '-'} · ${setting.name}` : ''}
    getValue=${() => current}
    setValue=${(value) => { const args = kinds.map((k, i) => call.args[i] || (k.setting ? { setting: '' } : { variable: '' })); args[index] = { setting: value }; write(call.name, args); }}
    getOptions=${() => withCurrent([none(translate), ...catalog.get().settings.map((s) => ({ value: s.name, label: `${s.label} (${s.value} ${translate(s.unit)})` }))], current, translate)} />`;
}

/** A sequence flow's condition expression (Python, run in the engine's sandbox). */
export function ConditionEntry({ element, id }) {
  const translate = useService('translate');
  const modeling = useService('modeling');
  const factory = useService('bpmnFactory');
  const bo = getBusinessObject(element);
  return html`<${TextAreaEntry} element=${element} id=${id} label=${translate('Condition expression')}
    description=${translate('A Python expression over the task data, e.g. decision == "return"')}
    getValue=${() => (bo.get('conditionExpression') ? bo.get('conditionExpression').get('body') : '')}
    setValue=${(value) => modeling.updateProperties(element, {
      conditionExpression: value ? factory.create('bpmn:FormalExpression', { body: value }) : undefined
    })} debounce=${useService('debounceInput')} />`;
}

/** A script task's script text (Python, run in the engine's sandbox). */
export function ScriptEntry({ element, id }) {
  const translate = useService('translate');
  const modeling = useService('modeling');
  const bo = getBusinessObject(element);
  return html`<${TextAreaEntry} element=${element} id=${id} label=${translate('Script')} monospace=${true} rows=${6}
    getValue=${() => bo.get('script') || ''}
    setValue=${(value) => modeling.updateProperties(element, { script: value || undefined })}
    debounce=${useService('debounceInput')} />`;
}
