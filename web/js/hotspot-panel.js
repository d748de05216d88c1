// HotspotPanel — the dialog a resident opens on a hotspot (its marker, or its button in the mirror): the
// hotspot's title and text, and the live state of the proposal it links to — title, summary, status,
// supports, comments, deadline, a link out to the participation platform, "last updated" for data from
// a remote platform (and "may be out of date" when the last refresh failed) — and, for a proposal made
// here, a "Support this proposal" button (once per browser). A machine-translated title or summary says
// so; a platform's custom state shows in its own words; a proposal the platform removed (status `gone`)
// keeps its last title and says it was removed, without counts, link out or support button — a sentence
// of its own, unlike the "may be out of date" of an outage (web/js/proposal-status.js decides the words).
//
// Invariants: a modal <dialog> (openModal: focus moves in, stays in, and goes back to the opener); every
// text from the server or the staff goes in through textContent, never HTML, with `lang` on texts shown
// in a fallback language; links out open in a new tab with rel="noopener noreferrer" and only when they
// are http(s); while open, the panel follows the hotspot and its proposal live (Hotspots events).

import { elementMaker, openModal } from './modal.js';
import { isGone, isMachineTranslated, proposalStatusText } from './proposal-status.js';

export class HotspotPanel {
  /**
   * @param {Document} doc
   * @param {{i18n: import('./i18n.js').I18n, announcer: import('./announcer.js').Announcer,
   *          hotspots: import('./hotspots.js').Hotspots}} options
   */
  constructor(doc, { i18n, announcer, hotspots }) {
    Object.assign(this, { doc, i18n, announcer, hotspots });
    this.hotspot = null;
    this.proposal = null;
    this.problem = null;
    this.removed = false;
    this.dateFormat = new Intl.DateTimeFormat(i18n.lang, { dateStyle: 'long' });
    this.timeFormat = new Intl.DateTimeFormat(i18n.lang, { dateStyle: 'medium', timeStyle: 'short' });
    this.numberFormat = new Intl.NumberFormat(i18n.lang);
    this.build();
    hotspots.on('change', ({ action, hotspot }) => {
      if (!this.isOpen || hotspot.id !== this.hotspot?.id) return;
      if (action === 'delete') {
        this.removed = true;
      } else {
        const refChanged = hotspot.proposalRef !== this.hotspot.proposalRef;
        this.hotspot = hotspot;
        this.removed = false;
        if (refChanged) this.loadProposal();
      }
      this.render();
    });
    hotspots.on('proposal', (proposal) => {
      if (!this.isOpen || proposal.ref !== this.hotspot?.proposalRef) return;
      const wasGone = isGone(this.proposal);
      this.proposal = proposal;
      this.render();
      // Removed while a resident reads it: the panel changed under them, say it once.
      if (isGone(proposal) && !wasGone) this.announcer.say(i18n.t('proposal.gone'));
    });
  }

  get isOpen() {
    return this.dialog.open;
  }

  /** Opens the panel of `hotspot`; focus goes back to `opener` on close. */
  open(hotspot, opener = null) {
    this.hotspot = hotspot;
    this.removed = false;
    this.supportMessage = '';
    this.loadProposal();
    this.render();
    if (!this.dialog.open) openModal(this.dialog, opener, this.closeButton);
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  loadProposal() {
    const ref = this.hotspot?.proposalRef;
    this.problem = null;
    this.proposal = ref ? this.hotspots.cachedProposal(ref) : null;
    if (!ref) return;
    this.loading = !this.proposal;
    // Always ask again on open: a remote platform's state may have moved since (the server caches it).
    this.hotspots
      .proposal(ref, { fresh: true })
      .then((proposal) => {
        if (this.hotspot?.proposalRef !== ref) return;
        this.proposal = proposal;
      })
      .catch((error) => {
        if (this.hotspot?.proposalRef !== ref) return;
        this.problem = error;
      })
      .finally(() => {
        if (this.hotspot?.proposalRef !== ref) return;
        this.loading = false;
        this.render();
      });
  }

  // --- markup --------------------------------------------------------------------------------------

  build() {
    const { doc, i18n } = this;
    const el = elementMaker(doc);
    this.el = el;
    const dialog = (this.dialog = el('dialog', { id: 'hotspot-dialog', className: 'dialog hotspot-dialog' }));
    dialog.setAttribute('aria-labelledby', 'hotspot-title');
    this.title = el('h2', { id: 'hotspot-title' });
    this.closeButton = el('button', { type: 'button', className: 'button button-small dialog-close' }, i18n.t('dialog.close'));
    this.closeButton.addEventListener('click', () => dialog.close());
    this.kind = el('p', { className: 'hotspot-kind' });
    this.removedNote = el('p', { className: 'hotspot-removed', hidden: true }, i18n.t('hotspot.removed'));
    this.description = el('p', { className: 'hotspot-description' });
    this.link = el('a', { className: 'hotspot-link', target: '_blank', rel: 'noopener noreferrer' });
    this.linkLine = el('p', {}, this.link);

    this.proposalSection = el('section', { className: 'proposal' });
    this.proposalSection.setAttribute('aria-labelledby', 'proposal-title');
    this.proposalLabel = el('p', { className: 'proposal-label' }, i18n.t('proposal.label'));
    this.proposalTitle = el('h3', { id: 'proposal-title', className: 'proposal-title' });
    this.proposalState = el('p', { className: 'proposal-state' });
    this.translatedNote = el('p', { className: 'proposal-translated', id: 'proposal-translated' }, i18n.t('proposal.machineTranslated'));
    this.goneNote = el('p', { className: 'proposal-gone', id: 'proposal-gone' }, i18n.t('proposal.gone'));
    this.summary = el('p', { className: 'proposal-summary' });
    this.facts = el('dl', { className: 'proposal-facts' });
    this.updated = el('p', { className: 'proposal-updated' });
    this.outLink = el('a', { className: 'proposal-link', target: '_blank', rel: 'noopener noreferrer' });
    this.outLine = el('p', {}, this.outLink);
    this.supportButton = el('button', { type: 'button', className: 'button', id: 'support-button' }, i18n.t('proposal.support'));
    this.supportButton.addEventListener('click', () => this.support());
    this.supportStatus = el('p', { className: 'support-status', id: 'support-status' });
    this.supportStatus.setAttribute('role', 'status');
    this.supportLine = el('div', { className: 'support-line' }, this.supportButton, this.supportStatus);
    this.proposalSection.append(
      this.proposalLabel, this.proposalTitle, this.translatedNote, this.proposalState, this.goneNote, this.summary, this.facts,
      this.updated, this.outLine, this.supportLine,
    );
    dialog.append(
      el('div', { className: 'dialog-head' }, this.title, this.closeButton),
      this.kind, this.removedNote, this.description, this.linkLine, this.proposalSection,
    );
    doc.body.append(dialog);
  }

  render() {
    const { i18n, hotspot } = this;
    if (!hotspot) return;
    i18n.setText(this.title, hotspot.title);
    this.kind.textContent = i18n.t(`hotspot.kind.${hotspot.kind}`);
    this.kind.dataset.kind = hotspot.kind;
    this.removedNote.hidden = !this.removed;
    const description = i18n.setText(this.description, hotspot.description);
    this.description.hidden = !description.text;
    const link = safeLink(hotspot.link);
    this.linkLine.hidden = !link;
    if (link) {
      this.link.href = link;
      this.link.textContent = i18n.t('hotspot.moreInfo', { host: new URL(link).host });
    }
    this.renderProposal();
  }

  renderProposal() {
    const { i18n, hotspot, proposal } = this;
    const ref = hotspot.proposalRef;
    this.proposalSection.hidden = !ref;
    if (!ref) return;
    const show = (node, visible) => (node.hidden = !visible);
    if (!proposal) {
      this.proposalTitle.textContent = i18n.t('proposal.label');
      this.proposalState.textContent = this.problem
        ? i18n.t('proposal.unavailable', { message: this.problem.message })
        : i18n.t('proposal.loading');
      show(this.proposalState, true);
      for (const node of [this.translatedNote, this.goneNote, this.summary, this.facts, this.updated, this.outLine, this.supportLine]) {
        show(node, false);
      }
      return;
    }
    const gone = isGone(proposal);
    const title = i18n.setText(this.proposalTitle, proposal.title);
    if (!this.proposalTitle.textContent) this.proposalTitle.textContent = i18n.t('proposal.label');
    // A failed refresh over a value we already show: keep it, say so.
    show(this.proposalState, Boolean(this.problem));
    if (this.problem) this.proposalState.textContent = i18n.t('proposal.refreshFailed', { message: this.problem.message });
    const summary = i18n.setText(this.summary, proposal.summary);
    show(this.summary, Boolean(summary.text));
    const translated =
      (title.text && isMachineTranslated(proposal, title.lang, proposal.title)) ||
      (summary.text && isMachineTranslated(proposal, summary.lang, proposal.summary));
    show(this.translatedNote, Boolean(translated));
    // Removed from the platform: the last title stays, the counts and the ways to take part go.
    show(this.goneNote, gone);
    this.proposalSection.dataset.state = gone ? 'gone' : proposal.stale ? 'stale' : 'live';
    if (gone) {
      for (const node of [this.facts, this.outLine, this.supportLine]) show(node, false);
      this.renderUpdated(proposal);
      return;
    }

    const facts = [
      ['proposal.status', this.statusText(proposal), 'status'],
      ['proposal.supports', this.countText(proposal.supports), 'supports'],
    ];
    if (proposal.source !== 'local' || proposal.comments != null) {
      facts.push(['proposal.comments', this.countText(proposal.comments), 'comments']);
    }
    facts.push(['proposal.deadline', proposal.deadline ? this.dateText(proposal.deadline) : i18n.t('proposal.noDeadline'), 'deadline']);
    this.facts.replaceChildren(
      ...facts.flatMap(([key, value, name]) => {
        const dt = this.el('dt', {}, i18n.t(key));
        const dd = this.el('dd', {}, typeof value === 'string' ? value : value.text);
        // A custom state's title may be in a fallback language: say which, for screen readers.
        if (typeof value !== 'string' && value.lang !== i18n.lang) dd.lang = value.lang;
        dd.dataset.fact = name;
        return [dt, dd];
      }),
    );
    show(this.facts, true);

    this.renderUpdated(proposal);
    const out = safeLink(proposal.url);
    show(this.outLine, Boolean(out));
    if (out) {
      this.outLink.href = out;
      this.outLink.textContent = i18n.t(`proposal.openOn.${proposal.source === 'consul' ? 'consul' : 'decidim'}`, { host: new URL(out).host });
      this.outLink.append(this.el('span', { className: 'visually-hidden' }, ` ${i18n.t('site.newTab')}`));
    }

    const local = proposal.source === 'local';
    show(this.supportLine, local);
    if (local) {
      const supported = this.hotspots.hasSupported(proposal.ref);
      const open = proposal.status === 'open' || proposal.status == null;
      this.supportButton.hidden = supported || !open;
      this.supportStatus.textContent =
        this.supportMessage || (supported ? i18n.t('proposal.youSupport') : open ? '' : i18n.t('proposal.notOpen'));
    }
  }

  /** "Last updated …" for a remote platform's data, with "may be out of date" after a failed refresh. */
  renderUpdated(proposal) {
    const { i18n } = this;
    const remote = proposal.source !== 'local';
    this.updated.hidden = !(remote && proposal.fetchedAt);
    if (this.updated.hidden) return;
    const date = new Date(proposal.fetchedAt * 1000);
    const time = this.el('time', { dateTime: date.toISOString() }, this.timeFormat.format(date));
    const parts = [`${i18n.t('proposal.updated')} `, time];
    if (proposal.stale && !isGone(proposal)) {
      parts.push(this.el('strong', { className: 'proposal-stale' }, ` ${i18n.t('proposal.stale')}`));
    }
    this.updated.replaceChildren(...parts);
  }

  async support() {
    const proposal = this.proposal;
    if (!proposal || this.supporting) return;
    this.supporting = true;
    this.supportButton.setAttribute('aria-disabled', 'true');
    try {
      const { supports, counted } = await this.hotspots.support(proposal.ref);
      this.supportMessage = counted
        ? this.i18n.t('proposal.thanks', { count: this.numberFormat.format(supports) })
        : this.i18n.t('proposal.already');
    } catch (error) {
      this.supportMessage = this.i18n.t('proposal.supportFailed', { message: error.message });
    } finally {
      this.supporting = false;
      this.supportButton.removeAttribute('aria-disabled');
    }
    if (this.proposal?.ref === proposal.ref) this.proposal = this.hotspots.cachedProposal(proposal.ref) || this.proposal;
    const hadFocus = this.doc.activeElement === this.supportButton;
    this.render();
    // The button went away: keep the focus inside the panel, on the sentence that replaced it.
    if (hadFocus && this.supportButton.hidden) {
      this.supportStatus.tabIndex = -1;
      this.supportStatus.focus();
    }
  }

  /** {text, lang}: a custom state's own title may be in another language than the page. */
  statusText(proposal) {
    return proposalStatusText(proposal, this.i18n.lang, (key) => this.i18n.t(key));
  }

  countText(count) {
    return typeof count === 'number' ? this.numberFormat.format(count) : this.i18n.t('proposal.hidden');
  }

  dateText(value) {
    const date = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T12:00:00`) : new Date(value);
    return Number.isNaN(date.getTime()) ? String(value) : this.dateFormat.format(date);
  }
}

/** The address when it is an absolute http(s) URL, else null (never a javascript: link). */
export function safeLink(value) {
  if (typeof value !== 'string' || !value) return null;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}
