// Units picked by name, searched as you type: every `[data-unit-picker]` holds a text input (the names) and a
// hidden input (the codes the form submits). The choices come from the page's datalist named by
// data-choices (an option's value is the code, its text the name). Matching ignores accents and case ("so tu phap" finds "Sở Tư pháp"); with data-multiple the
// names are separated by ";" and the last one is the one being typed.
(function () {
  function fold(text) {
    return (text || '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[đĐ]/g, 'd')
      .replace(/\s+/g, ' ').trim().toLowerCase();
  }

  function setUp(picker, index) {
    var block = document.getElementById(picker.getAttribute('data-choices'));
    var text = picker.querySelector('input[type=text]');
    var hidden = picker.querySelector('input[type=hidden]');
    if (!block || !text || !hidden) { return; }
    var choices = Array.prototype.map.call(block.querySelectorAll('option'), function (option) {
      return { code: option.value, name: option.textContent, key: fold(option.textContent) + ' ' + option.value };
    });
    var multiple = picker.hasAttribute('data-multiple');
    var list = document.createElement('ul');
    list.setAttribute('role', 'listbox');
    list.id = 'unit-picker-list-' + index;
    list.hidden = true;
    picker.appendChild(list);
    text.setAttribute('aria-controls', list.id);
    var shown = [], active = -1;

    function parts() { return multiple ? text.value.split(/[;,]/) : [text.value]; }

    function codeOf(name) {
      var wanted = fold(name);
      var found = choices.filter(function (c) { return fold(c.name) === wanted || c.code === name.trim(); });
      return found.length === 1 ? found[0].code : '';
    }

    function syncCodes() {  // the codes of the names written in full; a name half typed has none yet
      hidden.value = parts().map(codeOf).filter(function (code) { return code; }).join(',');
    }

    function close() {
      list.hidden = true;
      text.setAttribute('aria-expanded', 'false');
      text.removeAttribute('aria-activedescendant');
      active = -1;
    }

    function highlight(i) {
      active = i;
      Array.prototype.forEach.call(list.children, function (item, j) {
        item.setAttribute('aria-selected', j === i ? 'true' : 'false');
      });
      if (i >= 0 && list.children[i]) {
        text.setAttribute('aria-activedescendant', list.children[i].id);
        list.children[i].scrollIntoView({ block: 'nearest' });
      }
    }

    function choose(choice) {
      if (multiple) {
        var kept = parts().slice(0, -1).map(function (p) { return p.trim(); }).filter(function (p) { return p; });
        kept.push(choice.name);
        text.value = kept.join('; ') + '; ';
      } else {
        text.value = choice.name;
      }
      syncCodes();
      close();
      text.focus();
    }

    function open() {
      var words = fold(parts().pop()).split(' ').filter(function (w) { return w; });
      shown = choices.filter(function (c) {
        return words.every(function (w) { return c.key.indexOf(w) !== -1; });
      }).slice(0, 30);
      list.innerHTML = '';
      shown.forEach(function (choice, i) {
        var item = document.createElement('li');
        item.setAttribute('role', 'option');
        item.id = list.id + '-' + i;
        item.setAttribute('data-code', choice.code);
        item.textContent = choice.name;
        item.addEventListener('mousedown', function (event) { event.preventDefault(); choose(choice); });
        list.appendChild(item);
      });
      if (!shown.length) {
        var none = document.createElement('li');
        none.className = 'unit-picker-none';
        none.textContent = block.getAttribute('data-none');
        list.appendChild(none);
      }
      list.hidden = false;
      text.setAttribute('aria-expanded', 'true');
      highlight(shown.length ? 0 : -1);
    }

    text.addEventListener('input', function () { syncCodes(); open(); });
    text.addEventListener('focus', function () { if (!text.value || multiple) { open(); } });
    text.addEventListener('blur', function () { syncCodes(); close(); });
    text.addEventListener('keydown', function (event) {
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        if (list.hidden) { open(); return; }
        var step = event.key === 'ArrowDown' ? 1 : -1;
        if (shown.length) { highlight((active + step + shown.length) % shown.length); }
      } else if (event.key === 'Enter' && !list.hidden && active >= 0) {
        event.preventDefault();  // picks the suggestion; the form is sent by a second Enter
        choose(shown[active]);
      } else if (event.key === 'Escape' && !list.hidden) {
        event.preventDefault();
        close();
      }
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll('[data-unit-picker]'), setUp);
})();
