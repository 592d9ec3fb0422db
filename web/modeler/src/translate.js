// bpmn-js's translate service in the page's language: Vietnamese from i18n-vi.js, English as written.
import vi from './i18n-vi';

/** A translate module for `lang` ("vi" or "en"). */
export default function translateModule(lang) {
  const catalog = lang === 'en' ? {} : vi;
  function translate(template, replacements) {
    const text = catalog[template] || template;
    return text.replace(/{([^}]+)}/g, (whole, key) => (replacements && key in replacements ? replacements[key] : whole));
  }
  return { translate: ['value', translate] };
}
