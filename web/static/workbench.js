// The analyst's workbench page (web/templates/workbench.html, docs/workbench.md): the modeler from the
// bundle (window.CddhModeler), the draft's forms edited beside it with a live preview drawn by the
// server, and the toolbar: import, download, save, discard, check (problems listed and marked), deploy.
(function () {
  'use strict';
  var root = document.getElementById('workbench');
  if (!root || !window.CddhModeler) { return; }
  var urls = JSON.parse(root.dataset.urls);
  var texts = JSON.parse(root.dataset.texts);
  var processId = root.dataset.process;
  var $ = function (id) { return document.getElementById(id); };

  var modeler = window.CddhModeler.create({
    container: $('wb-canvas'), panel: $('wb-properties'), lang: root.dataset.lang, catalog: null
  });
  var catalog = modeler.get('cddhCatalog');
  var forms = {};        // file name -> schema text as typed (kept even while it is not valid JSON)
  var dirty = false;
  var current = null;    // the user task whose form is in the editor
  var problemIds = [];   // elements marked by the last check

  function text(key, params) {
    return (texts[key] || key).replace(/\{(\w+)\}/g, function (whole, name) {
      return params && name in params ? params[name] : whole;
    });
  }

  function request(method, url, body) {
    var options = { method: method, credentials: 'same-origin',
      headers: { 'Accept': 'application/json', 'X-CSRF-Token': root.dataset.csrf } };
    if (body !== undefined) {
      options.headers['Content-Type'] = 'application/json';
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      return response.text().then(function (raw) {
        var data = null;
        try { data = JSON.parse(raw); } catch (e) { data = { error: { message: response.status + ' ' + response.statusText } }; }
        return { ok: response.ok, status: response.status, data: data };
      });
    });
  }

  function say(message, kind) {
    var box = $('wb-message');
    box.textContent = message || '';
    box.className = 'wb-message ' + (kind || 'info');
    box.hidden = !message;
  }

  function failure(result) {
    var error = (result.data && result.data.error) || {};
    return error.message || text('wb_failed');
  }

  function setDirty(value) {
    dirty = value;
    $('wb-status').classList.toggle('dirty', dirty);
    if (dirty) { $('wb-status').dataset.dirty = 'true'; } else { delete $('wb-status').dataset.dirty; }
    showStatus();
  }

  var lastDraft = null;
  function showStatus() {
    var d = lastDraft;
    var words = '';
    if (d) {
      words = d.saved
        ? text('wb_saved_by', { user: d.updated_by || '', at: formatTime(d.updated_at), version: d.base_version || '-' })
        : text('wb_not_saved', { version: d.latest_version || '-' });
    }
    $('wb-status').textContent = words + (dirty ? ' · ' + text('wb_unsaved_changes') : '');
  }

  function formatTime(iso) {
    if (!iso) { return ''; }
    return new Date(iso).toLocaleString(root.dataset.lang === 'en' ? 'en-GB' : 'vi-VN', { timeZone: 'Asia/Ho_Chi_Minh' });
  }

  // The whole diagram in view, clear of the palette drawn over the canvas's left edge.
  function fit() {
    var canvas = modeler.get('canvas');
    canvas.zoom('fit-viewport');
    canvas.zoom(canvas.viewbox().scale * 0.9, { x: 0, y: 0 });
    canvas.scroll({ dx: 70, dy: 10 });
  }

  // --- the draft -------------------------------------------------------------------------------
  function formsAsObjects() {
    var out = {};
    var names = Object.keys(forms);
    for (var i = 0; i < names.length; i++) {
      try { out[names[i]] = JSON.parse(forms[names[i]]); } catch (e) {
        throw new Error(text('wb_form_not_json', { name: names[i], reason: e.message }));
      }
    }
    return out;
  }

  function currentBody() {
    return modeler.saveXML({ format: true }).then(function (saved) {
      return { bpmn: saved.xml, forms: formsAsObjects() };
    });
  }

  function load(draft) {
    lastDraft = draft;
    forms = {};
    Object.keys(draft.forms || {}).forEach(function (name) {
      var schema = draft.forms[name];
      forms[name] = typeof schema === 'string' ? schema : JSON.stringify(schema, null, 2);
    });
    catalog.setDraftForms(Object.keys(forms));
    return modeler.importXML(draft.bpmn).then(function () {
      fit();
      clearProblems();
      showForm(null);
      setDirty(false);
      root.dataset.loaded = 'true';
    });
  }

  function reload() {
    return request('GET', urls.draft).then(function (result) {
      if (!result.ok) { say(failure(result), 'error'); return null; }
      return load(result.data);
    });
  }

  function save() {
    var body;
    return currentBody().then(function (b) { body = b; return request('PUT', urls.draft, body); })
      .then(function (result) {
        if (!result.ok) { say(failure(result), 'error'); return; }
        lastDraft = result.data;
        setDirty(false);
        say(text('wb_saved', { user: result.data.updated_by }), 'ok');
      })
      .catch(function (error) { say(error.message, 'error'); });
  }

  function discard() {
    if (!window.confirm(text('wb_discard_confirm'))) { return Promise.resolve(); }
    return request('DELETE', urls.draft).then(function (result) {
      if (!result.ok) { say(failure(result), 'error'); return null; }
      return reload().then(function () { say(text('wb_discarded'), 'ok'); });
    });
  }

  // --- problems ----------------------------------------------------------------------------------
  function clearProblems() {
    var canvas = modeler.get('canvas');
    var overlays = modeler.get('overlays');
    var registry = modeler.get('elementRegistry');
    problemIds.forEach(function (id) {
      if (!registry.get(id)) { return; }  // gone with the diagram just imported: nothing to unmark
      canvas.removeMarker(id, 'wb-problem-error');
      canvas.removeMarker(id, 'wb-problem-warning');
    });
    overlays.remove({ type: 'wb-problem' });
    problemIds = [];
    $('wb-problem-list').textContent = '';
  }

  function selectElement(id) {
    var element = modeler.get('elementRegistry').get(id);
    if (!element) { return; }
    modeler.get('selection').select(element);
    if (element.waypoints || element.x !== undefined) { modeler.get('canvas').scrollToElement(element); }
  }

  function showProblems(problems) {
    clearProblems();
    var list = $('wb-problem-list');
    var registry = modeler.get('elementRegistry');
    var canvas = modeler.get('canvas');
    var overlays = modeler.get('overlays');
    var counts = {};
    problems.forEach(function (p) {
      var item = document.createElement('li');
      item.className = 'wb-problem ' + p.severity;
      item.dataset.element = p.element_id || '';
      var where = [p.element_id, p.line ? text('wb_line', { line: p.line }) : '', p.file && !/\.bpmn$/.test(p.file) ? p.file : '']
        .filter(Boolean).join(' · ');
      var severity = document.createElement('strong');
      severity.textContent = text(p.severity === 'error' ? 'wb_severity_error' : 'wb_severity_warning');
      item.appendChild(severity);
      item.appendChild(document.createTextNode(' ' + (where ? '[' + where + '] ' : '') + p.message));
      var element = p.element_id && registry.get(p.element_id);
      if (element) {
        item.tabIndex = 0;
        item.classList.add('located');
        item.addEventListener('click', function () { selectElement(p.element_id); });
        item.addEventListener('keydown', function (e) { if (e.key === 'Enter') { selectElement(p.element_id); } });
        canvas.addMarker(p.element_id, 'wb-problem-' + (p.severity === 'error' ? 'error' : 'warning'));
        problemIds.push(p.element_id);
        counts[p.element_id] = (counts[p.element_id] || 0) + 1;
      }
      list.appendChild(item);
    });
    Object.keys(counts).forEach(function (id) {
      var badge = document.createElement('span');
      badge.className = 'wb-problem-badge';
      badge.textContent = String(counts[id]);
      overlays.add(id, 'wb-problem', { position: { top: -10, right: 10 }, html: badge });
    });
    say(problems.length ? text('wb_problems_found', { count: problems.length }) : text('wb_no_problems'),
      problems.some(function (p) { return p.severity === 'error'; }) ? 'error' : 'ok');
  }

  function check() {
    say(text('wb_checking'), 'info');
    return currentBody().then(function (body) { return request('POST', urls.check, body); })
      .then(function (result) {
        if (!result.ok) { say(failure(result), 'error'); return; }
        showProblems(result.data.problems);
      })
      .catch(function (error) { say(error.message, 'error'); });
  }

  // --- forms beside the diagram ---------------------------------------------------------------------
  var previewTimer = null;
  var previewSeq = 0;  // only the answer to the latest text is drawn
  function showForm(element) {
    current = element;
    var isUserTask = element && window.CddhModeler.is(element, 'bpmn:UserTask');
    var name = isUserTask ? window.CddhModeler.getProperty(element, 'formJsonSchemaFilename') : '';
    $('wb-form-hint').textContent = isUserTask
      ? (name && !(name in forms) ? text('wb_form_missing', { name: name }) : text('wb_form_of', { task: element.businessObject.name || element.id, name: name || '-' }))
      : text('wb_select_user_task');
    $('wb-form-new').hidden = !isUserTask || (name && name in forms);
    $('wb-form-edit').hidden = !(isUserTask && name && name in forms);
    if (isUserTask && !(name && name in forms)) {
      $('wb-form-name').value = name || (processId + '.' + element.id + '.schema.json');
    }
    if (isUserTask && name && name in forms) {
      $('wb-form-schema').value = forms[name];
      $('wb-form-schema').dataset.form = name;
      preview();
    }
  }

  function preview() {
    var area = $('wb-form-schema');
    var box = $('wb-form-preview');
    var schema;
    try { schema = JSON.parse(area.value); } catch (e) {
      previewSeq++;
      box.dataset.state = 'error';
      box.textContent = text('wb_form_not_json', { name: area.dataset.form, reason: e.message });
      return Promise.resolve();
    }
    box.dataset.state = 'loading';
    var seq = ++previewSeq;
    return request('POST', urls.preview, { schema: schema }).then(function (result) {
      if (seq !== previewSeq) { return; }
      if (result.ok) {
        box.innerHTML = result.data.html;  // drawn by the server's template: every value escaped there
        box.dataset.state = 'ok';
      } else {
        box.textContent = text('wb_preview_error', { reason: failure(result) });
        box.dataset.state = 'error';
      }
    });
  }

  $('wb-form-schema').addEventListener('input', function () {
    var name = this.dataset.form;
    if (name) { forms[name] = this.value; setDirty(true); }
    clearTimeout(previewTimer);
    previewTimer = setTimeout(function () { preview().catch(function () {}); }, 300);
  });

  $('wb-form-create').addEventListener('click', function () {
    var name = $('wb-form-name').value.trim();
    if (!/^[\w.-]{1,200}\.json$/.test(name)) { say(text('wb_form_name_invalid', { name: name }), 'error'); return; }
    if (!(name in forms)) {
      var title = (current && current.businessObject.name) || name;
      forms[name] = JSON.stringify({ title: title, type: 'object', required: [], additionalProperties: false,
        properties: { note: { type: 'string', title: 'Ghi chú', 'x-title-en': 'Note', 'x-widget': 'text' } } }, null, 2);
    }
    catalog.setDraftForms(Object.keys(forms));
    window.CddhModeler.setProperty(modeler, current, 'formJsonSchemaFilename', name);
    say(text('wb_form_created', { name: name }), 'ok');
    showForm(current);
  });

  modeler.on('selection.changed', function (event) {
    showForm(event.newSelection.length === 1 ? event.newSelection[0] : null);
  });
  modeler.on('commandStack.changed', function () {
    setDirty(true);
    if (current) { showForm(current); }
  });

  // --- toolbar ------------------------------------------------------------------------------------
  $('wb-save').addEventListener('click', save);
  $('wb-discard').addEventListener('click', discard);
  $('wb-check').addEventListener('click', check);

  $('wb-download').addEventListener('click', function () {
    modeler.saveXML({ format: true }).then(function (saved) {
      var link = document.createElement('a');
      link.href = URL.createObjectURL(new Blob([saved.xml], { type: 'application/xml' }));
      link.download = processId + '.bpmn';
      document.body.appendChild(link);
      link.click();
      link.remove();
    });
  });

  $('wb-import').addEventListener('change', function () {
    var file = this.files[0];
    if (!file) { return; }
    file.text().then(function (xml) { return modeler.importXML(xml); })
      .then(function () {
        fit();
        clearProblems();
        showForm(null);
        setDirty(true);
        say(text('wb_imported', { name: file.name }), 'ok');
      })
      .catch(function (error) { say(error.message, 'error'); });
    this.value = '';
  });

  $('wb-deploy').addEventListener('click', function () {
    $('wb-deploy-result').textContent = '';
    $('wb-deploy-dialog').showModal();
  });
  $('wb-deploy-confirm').addEventListener('click', function () {
    var comment = $('wb-deploy-comment').value.trim();
    if (!comment) { $('wb-deploy-comment').reportValidity(); return; }
    currentBody().then(function (body) {
      body.comment = comment;
      // The draft this page opened or saved is the one being deployed: the server then removes it.
      body.draft_saved_at = lastDraft && lastDraft.saved ? lastDraft.updated_at : null;
      return request('POST', urls.deploy, body);
    }).then(function (result) {
      if (result.ok) {
        $('wb-deploy-dialog').close();
        say(text('wb_deployed', { versions: result.data.process_id + ' v' + result.data.version }), 'ok');
        return reload();
      }
      $('wb-deploy-result').textContent = failure(result);
      if (result.data && result.data.error && result.data.error.problems) {
        $('wb-deploy-dialog').close();
        showProblems(result.data.error.problems);
      }
      return null;
    }).catch(function (error) { $('wb-deploy-result').textContent = error.message; });
  });

  window.addEventListener('beforeunload', function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ''; }
  });

  request('GET', urls.catalog).then(function (result) {
    if (result.ok) { catalog.set(result.data); } else { say(failure(result), 'error'); }
    return reload();
  }).catch(function (error) { say(error.message, 'error'); });
  window.cddhWorkbench = modeler;  // for the browser tests and the console
}());
