// The lists the panel chooses from: the server's catalog (roles, settings, actions, forms, functions)
// and the forms made in this draft. The page hands them in through the modeler's `cddh` config.
export default class CddhCatalog {
  constructor(config) {
    this._config = config || {};
    this._catalog = this._config.catalog || { roles: [], settings: [], actions: [], forms: [], functions: [] };
    this._draftForms = [];
  }

  /** The server's catalog. */
  get() { return this._catalog; }

  /** Replace the catalog (after it loaded). */
  set(catalog) { this._catalog = { roles: [], settings: [], actions: [], forms: [], functions: [], ...catalog }; }

  /** The forms a user task may name: known to the server or made in this draft. */
  forms() { return [...new Set([...(this._catalog.forms || []), ...this._draftForms])].sort(); }

  /** The forms the draft holds (file names). */
  setDraftForms(names) { this._draftForms = [...names]; }
}

CddhCatalog.$inject = ['config.cddh'];
