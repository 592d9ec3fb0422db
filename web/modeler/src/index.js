// The analyst's modeler (docs/workbench.md): bpmn-js Modeler + properties panel + the engine's
// provider + the spiffworkflow moddle + Vietnamese labels, bundled by esbuild into
// web/static/vendor/modeler/modeler.js (`make assets`). The page (web/static/workbench.js) calls
// window.CddhModeler.create(...). The bpmn.io watermark stays (bpmn-js's licence asks for it).
import Modeler from 'bpmn-js/lib/Modeler';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel';
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';

import CddhCatalog from './catalog';
import EngineProvider from './provider';
import spiffworkflow from './spiffworkflow-moddle';
import translateModule from './translate';
import { getSpiffProperty, setSpiffProperty } from './extension';

const EngineProviderModule = {
  __init__: ['engineProvider'],
  cddhCatalog: ['type', CddhCatalog],
  engineProvider: ['type', EngineProvider]
};

/** A modeler in `container` with its properties panel in `panel`, labels in `lang`. */
function create({ container, panel, lang, catalog }) {
  return new Modeler({
    container,
    // The engine's group and the name open at first: what an analyst comes to the panel for.
    propertiesPanel: { parent: panel, layout: { groups: { engine: { open: true }, general: { open: true } } } },
    additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, EngineProviderModule, translateModule(lang)],
    moddleExtensions: { spiffworkflow },
    cddh: { catalog }
  });
}

window.CddhModeler = {
  create,
  is,
  getBusinessObject,
  /** The spiffworkflow:property `name` of an element. */
  getProperty: getSpiffProperty,
  /** Set a spiffworkflow:property of an element as one undoable change. */
  setProperty: (modeler, element, name, value) => setSpiffProperty(modeler.get('injector'), element, name, value)
};
