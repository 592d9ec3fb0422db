// The engine's group in the properties panel: for each element, the entries for what the engine
// reads from it (docs/workbench.md lists them). Registered after getGroups exists (MODELER.md pitfall).
import { isSelectEntryEdited, isTextAreaEntryEdited } from '@bpmn-io/properties-panel';
import { is, getBusinessObject } from 'bpmn-js/lib/util/ModelUtil';

import {
  ActionEntry, CallPartEntry, ConditionEntry, FormEntry, RoleEntry, ScriptEntry
} from './entries';
import { getSpiffProperty, getTimerText, parameterKinds, parseCall, setSpiffProperty, setTimerText, timerDefinition } from './extension';

const TIMER_SLOT = { get: getTimerText, set: setTimerText };
const DUE_SLOT = {
  get: (element) => getSpiffProperty(element, 'dueDate'),
  set: (injector, element, text) => setSpiffProperty(injector, element, 'dueDate', text)
};

export default class EngineProvider {
  constructor(propertiesPanel, injector, translate, cddhCatalog) {
    this._translate = translate;
    this._catalog = cddhCatalog;
    propertiesPanel.registerProvider(500, this);
  }

  getGroups(element) {
    return (groups) => {
      const entries = this._entries(element);
      if (entries.length) {
        groups.splice(1, 0, { id: 'engine', label: this._translate('Engine'), entries });
      }
      return groups;
    };
  }

  _callEntries(element, prefix, slot) {
    const call = parseCall(slot.get(element) || '');
    const fn = call && this._catalog.get().functions.find((f) => f.name === call.name);
    const kinds = parameterKinds(fn ? fn.signature : '');
    const entries = [{ id: `${prefix}-function`, component: CallPartEntry, slot, part: 'function', isEdited: isSelectEntryEdited }];
    kinds.filter((k) => k.setting).forEach((k, i) => entries.push(
      { id: `${prefix}-setting-${i}`, component: CallPartEntry, slot, part: i, isEdited: isSelectEntryEdited }));
    if (kinds.some((k) => !k.setting)) {
      entries.push({ id: `${prefix}-variable`, component: CallPartEntry, slot, part: 'variable', isEdited: isSelectEntryEdited });
    }
    return entries.map((e) => ({ ...e, element }));
  }

  _entries(element) {
    const entries = [];
    const add = (id, component, isEdited = isSelectEntryEdited) => entries.push({ id, component, element, isEdited });
    if (is(element, 'bpmn:Lane')) { add('role', RoleEntry); }
    if (is(element, 'bpmn:UserTask')) {
      add('form', FormEntry);
      entries.push(...this._callEntries(element, 'due', DUE_SLOT));
    }
    if (is(element, 'bpmn:Event') && timerDefinition(element)) {
      entries.push(...this._callEntries(element, 'timer', TIMER_SLOT));
    }
    if (is(element, 'bpmn:Event') || is(element, 'bpmn:Task')) { add('action', ActionEntry); }
    if (is(element, 'bpmn:SequenceFlow')) {
      const source = getBusinessObject(element).get('sourceRef');
      if (source && (is(source, 'bpmn:ExclusiveGateway') || is(source, 'bpmn:InclusiveGateway') || getBusinessObject(element).get('conditionExpression'))) {
        add('condition', ConditionEntry, isTextAreaEntryEdited);
      }
    }
    if (is(element, 'bpmn:ScriptTask')) { add('script', ScriptEntry, isTextAreaEntryEdited); }
    return entries;
  }
}

EngineProvider.$inject = ['propertiesPanel', 'injector', 'translate', 'cddhCatalog'];
