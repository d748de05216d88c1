// Editor — the staff editor inside the scene page (loaded only for a signed-in editor or admin).
//
// Edit mode: a click on the 3D view places a new hotspot where the ray from the pointer meets the scene,
// oriented to that surface's normal (world space), and opens the form; a click on a marker selects it and
// opens its form; "Move" then a click on another surface moves it. Keyboard path: "Place here" ray-casts
// straight ahead from the eye; each hotspot in the mirror gets an "Edit" button. The form edits the kind,
// a title and description per language (English required), a web address, and the linked proposal (search
// the local ones, or paste a Decidim/CONSUL address and preview it). Deleting offers "Undo" in a toast. A
// save that links a proposal the platform does not show now is kept, and its `warning` stays in the toast
// (announced, no time limit) until the editor dismisses it.
//
// Invariants: every write sends the version it edits; a 409 never loses work — the form shows "someone
// else changed this" with their values and lets the editor reapply theirs or keep the other version;
// an applied write updates the page at once (the room's echo is then a no-op); every API error is shown
// with its message; no three.js here (ray casts are asked of the hotspot view), so the editor works in text mode
// too (without placing or moving); all texts go in as text, never HTML.

import { HOTSPOT_LANGUAGES, KINDS } from './hotspots.js';
import { LANGUAGE_NAMES } from './i18n.js';
import { api } from './api.js';
import { elementMaker, openModal } from './modal.js';
import { isMachineTranslated, proposalStatusText } from './proposal-status.js';

const UNDO_MS = 10_000;
const enc = encodeURIComponent;

export class Editor {
  /**
   * Given what it needs, never the whole page (staff-ui.js builds this from the hotspot view):
   * @param {{doc: Document, i18n: import('./i18n.js').I18n, announcer: import('./announcer.js').Announcer,
   *          session: import('./staff-signin.js').StaffSession, sceneId: string,
   *          hotspots: import('./hotspots.js').Hotspots, view: HTMLElement,
   *          can3d: () => boolean, surfaceAt: (ndc) => ({point, normal} | null), pick: (ndc) => (string | null),
   *          select: (id) => void, placeName: (position) => string, setViewHint: (text) => void,
   *          onChange: () => void, focusList: () => void}} context
   *   `view` is the 3D view's focusable element; `surfaceAt` and `pick` are the ray casts (null in text
   *   mode); `select` highlights a marker; `onChange` re-renders the hotspot list (edit controls come and
   *   go); `focusList` puts focus back in the hotspot list; `setViewHint` shows a hint over the view.
   */
  constructor({ doc, i18n, announcer, session, sceneId, hotspots, view, can3d, surfaceAt, pick, select, placeName, setViewHint, onChange, focusList }) {
    Object.assign(this, { doc, i18n, announcer, session, sceneId, hotspots, view });
    Object.assign(this, { can3d, surfaceAt, pick, select, placeName, setViewHint, onChange, focusList });
    this.editing = false;
    this.moving = null; // the hotspot waiting for a click on its new surface
    this.current = null; // the hotspot in the form (null: a new one)
    this.draft = null; // {position, normal} of a new hotspot
    this.link = null; // {ref, title} linked in the form
    const byId = (id) => this.doc.getElementById(id);
    this.toggle = byId('edit-toggle');
    this.placeButton = byId('place-here');
    this.editHint = byId('edit-hint');
    this.el = elementMaker(this.doc);
    this.buildForm();
    this.buildToast();
    this.offChange = this.hotspots.on('change', ({ action, hotspot }) => this.onRemoteChange(action, hotspot));
    this.setEditing(false);
  }

  /** Signed out: the controls go, the page is a resident's again. */
  destroy() {
    this.offChange(); // the store outlives the editor (sign out, sign in again)
    clearTimeout(this.toastTimer);
    this.setEditing(false);
    if (this.form.open) this.form.close();
    this.form.remove();
    this.toast.remove();
  }

  t(key, vars) {
    return this.i18n.t(key, vars);
  }

  setEditing(on) {
    this.editing = Boolean(on);
    this.moving = null;
    this.toggle.setAttribute('aria-pressed', String(this.editing));
    const can3d = this.can3d();
    this.placeButton.hidden = !this.editing || !can3d;
    this.editHint.hidden = !this.editing;
    this.editHint.textContent = this.t(can3d ? 'editor.hint3d' : 'editor.hintText');
    this.doc.body.dataset.editing = String(this.editing);
    this.select(null);
    this.onChange();
    this.setViewHint(this.editing ? this.t('editor.viewHint') : null);
  }

  /** Extra controls of a hotspot's item in the mirror (edit mode). */
  decorate(hotspot, li) {
    if (!this.editing) return;
    const button = this.doc.createElement('button');
    button.type = 'button';
    button.className = 'button button-small button-quiet mirror-edit';
    button.textContent = this.t('editor.edit');
    const title = this.i18n.pickWithLang(hotspot.title);
    const label = this.doc.createElement('span');
    label.className = 'visually-hidden';
    label.textContent = ` ${title.text}`;
    if (title.lang !== this.i18n.lang) label.lang = title.lang;
    button.append(label);
    button.addEventListener('click', () => {
      const fresh = this.hotspots.get(hotspot.id);
      if (fresh) this.openForm(fresh, button);
    });
    li.append(button);
  }

  // --- placing, selecting, moving --------------------------------------------------------------

  /** A click on the 3D view at `ndc`; true when the editor used it (no pointer lock then). */
  onViewClick(ndc) {
    if (!this.editing) return false;
    if (this.moving) {
      const hit = this.surfaceAt(ndc);
      if (!hit) this.announcer.say(this.t('editor.noSurface'), { repeat: true });
      else this.move(this.moving, hit);
      return true;
    }
    const id = this.pick(ndc);
    if (id != null) {
      const hotspot = this.hotspots.get(id);
      if (hotspot) this.openForm(hotspot, this.view);
      return true;
    }
    const hit = this.surfaceAt(ndc);
    if (!hit) {
      this.announcer.say(this.t('editor.noSurface'), { repeat: true });
      return true;
    }
    this.openNew(hit, this.view);
    return true;
  }

  /** "Place here": on the surface straight ahead of the walker's eyes. */
  placeHere(opener) {
    const hit = this.surfaceAt({ x: 0, y: 0 });
    if (!hit) {
      this.announcer.say(this.t('editor.noSurfaceAhead'), { repeat: true });
      this.showStatus(this.t('editor.noSurfaceAhead'));
      return;
    }
    this.openNew(hit, opener);
  }

  openNew(hit, opener) {
    this.current = null;
    this.draft = { position: hit.point, normal: hit.normal };
    this.openForm(null, opener);
  }

  startMove(hotspot) {
    this.moving = hotspot;
    this.form.close();
    this.select(hotspot.id);
    this.showStatus(this.t('editor.moveHint'));
    this.announcer.say(this.t('editor.moveHint'));
    this.view.focus();
  }

  async move(hotspot, hit) {
    this.moving = null;
    const current = this.hotspots.get(hotspot.id) || hotspot;
    try {
      const { status, body } = await this.session.write(`/api/hotspots/${current.id}`, {
        method: 'PATCH',
        body: { version: current.version, position: hit.point, normal: hit.normal },
      });
      if (status === 409) {
        this.hotspots.applyEvent({ action: 'upsert', hotspot: body.current });
        this.showStatus(this.t('editor.conflictMove'));
        this.announcer.say(this.t('editor.conflictMove'));
        return;
      }
      this.hotspots.applyEvent({ action: 'upsert', hotspot: body });
      this.showStatus(this.t('editor.moved'));
      this.announcer.say(this.t('editor.moved'));
    } catch (error) {
      this.showStatus(this.t('editor.error', { message: error.message }));
    } finally {
      this.select(null);
    }
  }

  // --- the form ----------------------------------------------------------------------------------

  buildForm() {
    const { doc, el } = this;
    const dialog = (this.form = el('dialog', { id: 'hotspot-form', className: 'dialog editor-dialog' }));
    dialog.setAttribute('aria-labelledby', 'hotspot-form-title');
    this.formTitle = el('h2', { id: 'hotspot-form-title' });
    const close = el('button', { type: 'button', className: 'button button-small dialog-close' }, this.t('dialog.close'));
    close.addEventListener('click', () => dialog.close());

    this.error = el('div', { className: 'form-error', id: 'hotspot-form-error', hidden: true });
    this.error.setAttribute('role', 'alert');
    this.conflict = el('div', { className: 'form-conflict', id: 'hotspot-form-conflict', hidden: true });
    this.conflict.setAttribute('role', 'alert');

    // Kind.
    this.kindInputs = {};
    const kinds = el('fieldset', { className: 'pref-group' }, el('legend', {}, this.t('editor.kind')));
    for (const kind of KINDS) {
      const id = `hotspot-kind-${kind}`;
      const input = el('input', { type: 'radio', name: 'hotspot-kind', id, value: kind });
      this.kindInputs[kind] = input;
      kinds.append(el('div', { className: 'check' }, input, el('label', { htmlFor: id }, this.t(`hotspot.kind.${kind}`))));
    }

    // Texts per language.
    this.titleInputs = {};
    this.descriptionInputs = {};
    const texts = HOTSPOT_LANGUAGES.map((lang) => {
      const fieldset = el('fieldset', { className: 'pref-group lang-group' });
      const legend = el('legend', {}, el('span', { lang }, LANGUAGE_NAMES[lang]));
      if (lang === 'en') legend.append(` ${this.t('editor.required')}`);
      const title = el('input', { type: 'text', id: `hotspot-title-${lang}`, maxLength: 120, lang, className: 'text-input' });
      const description = el('textarea', { id: `hotspot-description-${lang}`, maxLength: 4000, rows: 3, lang, className: 'text-input' });
      if (lang === 'en') {
        title.required = true;
        title.setAttribute('aria-required', 'true');
        this.titleError = el('p', { className: 'field-error', id: 'hotspot-title-en-error', hidden: true });
        title.setAttribute('aria-describedby', 'hotspot-title-en-error');
      }
      this.titleInputs[lang] = title;
      this.descriptionInputs[lang] = description;
      fieldset.append(
        legend,
        el('label', { htmlFor: title.id }, this.t('editor.title')),
        title,
        ...(lang === 'en' ? [this.titleError] : []),
        el('label', { htmlFor: description.id }, this.t('editor.description')),
        description,
      );
      return fieldset;
    });

    // Web address.
    this.linkInput = el('input', { type: 'url', id: 'hotspot-link', maxLength: 500, className: 'text-input', inputMode: 'url' });
    this.linkInput.setAttribute('aria-describedby', 'hotspot-link-hint');
    const linkField = el(
      'p',
      { className: 'form-field' },
      el('label', { htmlFor: 'hotspot-link' }, this.t('editor.link')),
      this.linkInput,
      el('span', { className: 'field-hint', id: 'hotspot-link-hint' }, this.t('editor.linkHint')),
    );

    // Linked proposal.
    this.linked = el('p', { className: 'linked-proposal', id: 'linked-proposal' });
    this.unlinkButton = el('button', { type: 'button', className: 'button button-small button-quiet' }, this.t('editor.unlink'));
    this.unlinkButton.addEventListener('click', () => this.setLink(null, { announce: true }));
    this.searchInput = el('input', { type: 'search', id: 'proposal-search', maxLength: 100, className: 'text-input' });
    const searchButton = el('button', { type: 'button', className: 'button button-small', id: 'proposal-search-button' }, this.t('editor.search'));
    searchButton.addEventListener('click', () => this.search());
    this.searchInput.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') {
        event.preventDefault();
        this.search();
      }
    });
    this.results = el('ul', { className: 'proposal-results', id: 'proposal-results' });
    this.resultsStatus = el('p', { className: 'field-hint', id: 'proposal-results-status' });
    this.resultsStatus.setAttribute('role', 'status');
    this.urlInput = el('input', { type: 'url', id: 'proposal-url', maxLength: 500, className: 'text-input' });
    this.urlInput.setAttribute('aria-describedby', 'proposal-url-hint');
    const previewButton = el('button', { type: 'button', className: 'button button-small', id: 'proposal-preview-button' }, this.t('editor.preview'));
    previewButton.addEventListener('click', () => this.preview());
    this.urlInput.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') {
        event.preventDefault();
        this.preview();
      }
    });
    this.previewBox = el('div', { className: 'proposal-preview', id: 'proposal-preview' });
    this.previewBox.setAttribute('role', 'status');
    const proposalGroup = el(
      'fieldset',
      { className: 'pref-group' },
      el('legend', {}, this.t('editor.proposal')),
      el('div', { className: 'linked-line' }, this.linked, this.unlinkButton),
      el('label', { htmlFor: 'proposal-search' }, this.t('editor.searchLabel')),
      el('div', { className: 'field-row' }, this.searchInput, searchButton),
      this.resultsStatus,
      this.results,
      el('label', { htmlFor: 'proposal-url' }, this.t('editor.urlLabel')),
      el('div', { className: 'field-row' }, this.urlInput, previewButton),
      el('span', { className: 'field-hint', id: 'proposal-url-hint' }, this.t('editor.urlHint')),
      this.previewBox,
    );

    this.where = el('p', { className: 'field-hint', id: 'hotspot-where' });
    this.saveButton = el('button', { type: 'submit', className: 'button', id: 'hotspot-save' }, this.t('editor.save'));
    this.moveButton = el('button', { type: 'button', className: 'button button-quiet', id: 'hotspot-move' }, this.t('editor.move'));
    this.moveButton.addEventListener('click', () => this.current && this.startMove(this.current));
    this.deleteButton = el('button', { type: 'button', className: 'button button-danger', id: 'hotspot-delete' }, this.t('editor.delete'));
    this.deleteButton.addEventListener('click', () => this.remove());
    const cancel = el('button', { type: 'button', className: 'button button-quiet' }, this.t('editor.cancel'));
    cancel.addEventListener('click', () => dialog.close());

    const form = el(
      'form',
      { className: 'stack-form', noValidate: true, id: 'hotspot-form-fields' },
      this.error,
      this.conflict,
      this.where,
      kinds,
      ...texts,
      linkField,
      proposalGroup,
      el('div', { className: 'form-actions' }, this.saveButton, this.moveButton, this.deleteButton, cancel),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.save();
    });
    dialog.append(el('div', { className: 'dialog-head' }, this.formTitle, close), form);
    dialog.addEventListener('close', () => {
      if (!this.moving) this.select(null);
    });
    doc.body.append(dialog);
  }

  /** Opens the form for `hotspot` (null: the new one in `this.draft`). */
  openForm(hotspot, opener) {
    this.current = hotspot;
    this.mine = null;
    this.showError(null);
    this.showConflict(null);
    this.results.replaceChildren();
    this.resultsStatus.textContent = '';
    this.previewBox.replaceChildren();
    this.searchInput.value = '';
    this.urlInput.value = '';
    this.formTitle.textContent = this.t(hotspot ? 'editor.editTitle' : 'editor.newTitle');
    this.fill(hotspot || { kind: 'proposal', title: {}, description: {}, link: null, proposalRef: null });
    const can3d = this.can3d();
    this.moveButton.hidden = !hotspot || !can3d;
    this.deleteButton.hidden = !hotspot;
    const position = hotspot ? hotspot.position : this.draft.position;
    this.where.textContent = this.t('editor.where', { place: this.placeName(position), position: position.map((v) => v.toFixed(2)).join(', ') });
    this.select(hotspot ? hotspot.id : null);
    openModal(this.form, opener, this.kindInputs[hotspot?.kind || 'proposal']);
  }

  /** Puts a hotspot's values in the form. */
  fill(values) {
    for (const kind of KINDS) this.kindInputs[kind].checked = kind === (values.kind || 'proposal');
    for (const lang of HOTSPOT_LANGUAGES) {
      this.titleInputs[lang].value = values.title?.[lang] || '';
      this.descriptionInputs[lang].value = values.description?.[lang] || '';
    }
    this.linkInput.value = values.link || '';
    this.setLink(values.proposalRef ? { ref: values.proposalRef, title: null } : null);
    if (values.proposalRef) {
      const ref = values.proposalRef;
      this.hotspots
        .proposal(ref)
        .then((p) => this.link?.ref === ref && this.setLink({ ref, title: this.i18n.pick(p.title) }))
        .catch(() => {});
    }
  }

  /** What the form holds, as the API's fields. */
  values() {
    const title = {};
    const description = {};
    for (const lang of HOTSPOT_LANGUAGES) {
      const t = this.titleInputs[lang].value.trim();
      const d = this.descriptionInputs[lang].value.trim();
      if (t) title[lang] = t;
      if (d) description[lang] = d;
    }
    const kind = KINDS.find((k) => this.kindInputs[k].checked) || 'proposal';
    return { kind, title, description, link: this.linkInput.value.trim() || null, proposalRef: this.link?.ref || null };
  }

  setLink(link, { announce = false } = {}) {
    this.link = link;
    this.linked.replaceChildren();
    if (!link) {
      this.linked.textContent = this.t('editor.noProposal');
    } else {
      const title = this.el('strong', {}, link.title || link.ref);
      this.linked.append(`${this.t('editor.linkedTo')} `, title);
    }
    this.unlinkButton.hidden = !link;
    if (announce) this.announcer.say(link ? `${this.t('editor.linkedTo')} ${link.title || link.ref}` : this.t('editor.noProposal'));
  }

  async search() {
    const query = this.searchInput.value.trim();
    this.resultsStatus.textContent = this.t('editor.searching');
    try {
      const { proposals } = await api.searchProposals(query);
      this.results.replaceChildren(
        ...proposals.map((p) => {
          const title = this.i18n.pickWithLang(p.title);
          const button = this.el('button', { type: 'button', className: 'button button-small button-quiet' }, this.t('editor.linkThis'));
          const name = this.el('span', { className: 'result-title' }, title.text);
          if (title.lang !== this.i18n.lang) name.lang = title.lang;
          const label = this.el('span', { className: 'visually-hidden' }, `: ${title.text}`);
          button.append(label);
          button.addEventListener('click', () => {
            this.setLink({ ref: p.ref, title: title.text }, { announce: true });
            this.linked.scrollIntoView?.({ block: 'nearest' });
          });
          const meta = this.el('span', { className: 'result-meta' }, ` — ${this.t(`proposal.status.${p.status}`)} · ${p.ref}`);
          return this.el('li', {}, name, meta, ' ', button);
        }),
      );
      this.resultsStatus.textContent = this.t('editor.found', { count: proposals.length });
    } catch (error) {
      this.resultsStatus.textContent = this.t('editor.error', { message: error.message });
    }
  }

  async preview() {
    const url = this.urlInput.value.trim();
    if (!url) return;
    this.previewBox.replaceChildren(this.el('p', {}, this.t('proposal.loading')));
    try {
      const p = await api.resolveProposal({ url });
      const title = this.i18n.pickWithLang(p.title);
      const name = this.el('strong', {}, title.text || p.ref);
      if (title.lang !== this.i18n.lang) name.lang = title.lang;
      const supports = typeof p.supports === 'number' ? String(p.supports) : this.t('proposal.hidden');
      const status = proposalStatusText(p, this.i18n.lang, (key) => this.t(key));
      const statusText = this.el('span', {}, status.text);
      if (status.lang !== this.i18n.lang) statusText.lang = status.lang;
      const facts = this.el('p', {}, `${this.t('proposal.status')}: `, statusText, ` · ${this.t('proposal.supports')}: ${supports}`);
      if (isMachineTranslated(p, title.lang)) name.after(` (${this.t('proposal.machineTranslated')})`);
      const link = this.el('button', { type: 'button', className: 'button button-small', id: 'proposal-preview-link' }, this.t('editor.linkThis'));
      link.addEventListener('click', () => this.setLink({ ref: p.ref, title: title.text }, { announce: true }));
      this.previewBox.replaceChildren(this.el('p', {}, name), facts, link);
    } catch (error) {
      this.previewBox.replaceChildren(this.el('p', { className: 'field-error' }, this.t('editor.error', { message: error.message })));
    }
  }

  showError(message) {
    this.error.hidden = !message;
    this.error.textContent = message || '';
  }

  /** The 409 box: their current values, and the choice to reapply ours or take theirs. */
  showConflict(current) {
    this.conflict.hidden = !current;
    this.conflict.replaceChildren();
    if (!current) return;
    const el = this.el;
    const title = this.i18n.pickWithLang(current.title);
    const theirs = el('strong', {}, title.text);
    if (title.lang !== this.i18n.lang) theirs.lang = title.lang;
    const reapply = el('button', { type: 'button', className: 'button button-small', id: 'conflict-reapply' }, this.t('editor.reapply'));
    reapply.addEventListener('click', () => {
      // Our values stay in the form; the next save goes against their version.
      this.current = current;
      this.showConflict(null);
      this.save();
    });
    const take = el('button', { type: 'button', className: 'button button-small button-quiet', id: 'conflict-take' }, this.t('editor.takeTheirs'));
    take.addEventListener('click', () => {
      this.current = current;
      this.showConflict(null);
      this.fill(current);
      this.announcer.say(this.t('editor.tookTheirs'));
      this.kindInputs[current.kind]?.focus();
    });
    const who = current.updatedBy ? this.t('editor.changedBy', { name: current.updatedBy }) : '';
    this.conflict.append(
      el('p', { className: 'conflict-title' }, this.t('editor.conflict')),
      el('p', {}, `${who} ${this.t('editor.theirTitle')} `, theirs, ` · ${this.t(`hotspot.kind.${current.kind}`)}`),
      el('p', { className: 'form-actions' }, reapply, take),
    );
  }

  async save() {
    const values = this.values();
    if (!values.title.en) {
      this.titleError.hidden = false;
      this.titleError.textContent = this.t('editor.titleRequired');
      this.titleInputs.en.setAttribute('aria-invalid', 'true');
      this.titleInputs.en.focus();
      return;
    }
    this.titleError.hidden = true;
    this.titleInputs.en.removeAttribute('aria-invalid');
    if (this.saving) return;
    this.saving = true;
    this.saveButton.setAttribute('aria-disabled', 'true');
    this.showError(null);
    try {
      const current = this.current;
      const { status, body } = current
        ? await this.session.write(`/api/hotspots/${current.id}`, { method: 'PATCH', body: { version: current.version, ...values } })
        : await this.session.write(`/api/scenes/${enc(this.sceneId)}/hotspots`, {
            body: { ...values, position: this.draft.position, normal: this.draft.normal },
          });
      if (status === 409) {
        this.hotspots.applyEvent({ action: 'upsert', hotspot: body.current });
        this.showConflict(body.current);
        this.conflict.querySelector('#conflict-reapply')?.focus();
        return;
      }
      const { warning, ...saved } = body; // the warning is for this editor, never part of the hotspot
      this.hotspots.applyEvent({ action: 'upsert', hotspot: saved });
      const title = this.i18n.pick(saved.title);
      this.form.close();
      if (warning) this.showWarning(this.t('editor.savedWithWarning', { title }), String(warning));
      else this.announcer.say(this.t(current ? 'editor.saved' : 'editor.placed', { title }), { repeat: true });
    } catch (error) {
      this.showError(this.t('editor.error', { message: error.message }));
      this.error.tabIndex = -1;
      this.error.focus();
    } finally {
      this.saving = false;
      this.saveButton.removeAttribute('aria-disabled');
    }
  }

  async remove() {
    const hotspot = this.current;
    if (!hotspot) return;
    try {
      const { status, body } = await this.session.write(`/api/hotspots/${hotspot.id}?version=${hotspot.version}`, { method: 'DELETE' });
      if (status === 409) {
        this.hotspots.applyEvent({ action: 'upsert', hotspot: body.current });
        this.showConflict(body.current);
        this.conflict.querySelector('#conflict-take')?.focus();
        return;
      }
      this.hotspots.applyEvent({ action: 'delete', hotspot: body });
      this.form.close();
      this.offerUndo(body);
    } catch (error) {
      this.showError(this.t('editor.error', { message: error.message }));
    }
  }

  onRemoteChange(action, hotspot) {
    // Someone else deleted the hotspot in the form: say so, keep the values (saving gets the server's answer).
    if (this.form.open && this.current?.id === hotspot.id && action === 'delete' && hotspot.updatedBy !== this.session.user?.username) {
      this.showError(this.t('editor.goneMeanwhile'));
    }
  }

  // --- toast with Undo ---------------------------------------------------------------------------

  buildToast() {
    const el = this.el;
    this.toastText = el('p', { className: 'toast-text' });
    this.undoButton = el('button', { type: 'button', className: 'button button-small', id: 'undo-button' }, this.t('editor.undo'));
    this.undoButton.addEventListener('click', () => this.undo());
    const dismiss = el('button', { type: 'button', className: 'button button-small button-quiet', id: 'toast-dismiss' }, this.t('editor.dismiss'));
    dismiss.addEventListener('click', () => this.hideToast(true));
    this.sticky = false; // a warning toast stays until dismissed
    this.toast = el('div', { className: 'toast', id: 'editor-toast', hidden: true }, this.toastText, el('div', { className: 'toast-actions' }, this.undoButton, dismiss));
    this.toast.setAttribute('role', 'region');
    this.toast.setAttribute('aria-label', this.t('editor.toastLabel'));
    // The toast waits while the pointer or the focus is on it (time limits must be adjustable).
    this.toast.addEventListener('focusin', () => clearTimeout(this.toastTimer));
    this.toast.addEventListener('mouseenter', () => clearTimeout(this.toastTimer));
    this.toast.addEventListener('focusout', (event) => {
      if (!this.toast.contains(event.relatedTarget)) this.armToast();
    });
    this.toast.addEventListener('mouseleave', () => this.toast.contains(this.doc.activeElement) || this.armToast());
    this.doc.body.append(this.toast);
  }

  showStatus(message) {
    this.deleted = null;
    this.sticky = false;
    delete this.toast.dataset.tone;
    this.toastText.textContent = message;
    this.undoButton.hidden = true;
    this.toast.hidden = false;
    this.armToast();
  }

  /**
   * A save that went through with a warning from the server (e.g. the platform does not show the linked
   * proposal): shown and announced, and it stays until dismissed (something to act on, not a passing note).
   * The server's words are English.
   */
  showWarning(lead, warning) {
    this.deleted = null;
    this.sticky = true;
    clearTimeout(this.toastTimer);
    const words = this.el('span', { className: 'toast-warning' }, warning);
    if (this.i18n.lang !== 'en') words.lang = 'en';
    this.toastText.replaceChildren(`${lead} `, words);
    this.toast.dataset.tone = 'warning';
    this.undoButton.hidden = true;
    this.toast.hidden = false;
    this.announcer.say([lead, { text: warning, lang: 'en' }], { repeat: true });
  }

  offerUndo(hotspot) {
    this.deleted = hotspot;
    this.sticky = false;
    delete this.toast.dataset.tone;
    const title = this.i18n.pick(hotspot.title);
    this.toastText.textContent = this.t('editor.deleted', { title });
    this.undoButton.hidden = false;
    this.toast.hidden = false;
    this.announcer.say(this.t('editor.deletedAnnounce', { title }), { repeat: true });
    this.armToast();
    this.undoButton.focus(); // the item it was opened from is gone: Undo is the useful next step
  }

  armToast() {
    clearTimeout(this.toastTimer);
    if (this.sticky) return;
    this.toastTimer = setTimeout(() => this.hideToast(false), UNDO_MS);
  }

  hideToast(asked) {
    clearTimeout(this.toastTimer);
    const hadFocus = this.toast.contains(this.doc.activeElement);
    this.toast.hidden = true;
    this.deleted = null;
    this.sticky = false;
    delete this.toast.dataset.tone;
    if (hadFocus || asked) this.focusList();
  }

  async undo() {
    const hotspot = this.deleted;
    if (!hotspot) return;
    try {
      const { status, body } = await this.session.write(`/api/hotspots/${hotspot.id}/restore`, { body: { version: hotspot.version } });
      if (status === 409) {
        this.toastText.textContent = this.t('editor.undoConflict');
        this.undoButton.hidden = true;
        return;
      }
      this.hotspots.applyEvent({ action: 'upsert', hotspot: body });
      const title = this.i18n.pick(body.title);
      this.announcer.say(this.t('editor.restored', { title }), { repeat: true });
      this.hideToast(true);
    } catch (error) {
      this.toastText.textContent = this.t('editor.error', { message: error.message });
    }
  }
}
