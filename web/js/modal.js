// Modal — opens a real <dialog> as a modal: showModal() makes the rest of the page inert, so focus
// stays inside (a focus trap the browser keeps, also for screen readers); Esc closes it (the
// dialog's native cancel); focus then returns to the control that opened it.

/**
 * Opens `dialog` as a modal and gives focus back to `opener` when it closes (Esc, a close button,
 * or dialog.close()). `focus` is the element to focus first (default: the first control).
 */
export function openModal(dialog, opener, focus = null) {
  if (dialog.open) return;
  const back = opener || dialog.ownerDocument.activeElement;
  dialog.addEventListener(
    'close',
    () => {
      if (back && back.isConnected && typeof back.focus === 'function') back.focus();
    },
    { once: true },
  );
  dialog.showModal();
  const first = focus || dialog.querySelector('button, [href], input, select, textarea, [tabindex]:not([tabindex="-1"])');
  first?.focus();
}

/**
 * The dialogs' element builder for `doc`: el(tag, props, ...children) creates `tag`, assigns `props`
 * (as properties: className, htmlFor, hidden…) and appends `children` (nodes or strings — strings go in
 * as text, never HTML).
 */
export function elementMaker(doc) {
  return (tag, props = {}, ...children) => {
    const node = doc.createElement(tag);
    Object.assign(node, props);
    node.append(...children);
    return node;
  };
}
