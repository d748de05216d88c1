// A stylesheet added to the page only when a view that needs it appears (the meeting panel, the audio controls):
// pages without that view never fetch it. Resolves once it applied, or failed (the view works unstyled).

/** Links `href` once per page; resolves when it loaded or failed. */
export function loadStylesheet(doc, href) {
  const present = doc.querySelector(`link[href="${href}"]`);
  if (present) return present.loaded || Promise.resolve();
  const link = doc.createElement('link');
  link.rel = 'stylesheet';
  link.href = href;
  link.loaded = new Promise((resolve) => {
    link.addEventListener('load', resolve);
    link.addEventListener('error', resolve);
  });
  doc.head.append(link);
  return link.loaded;
}
