// Landing — the page at `/`: lists the scenes from /api/scenes (title, description, capacity)
// in the page language, each linking to its 3D view.
//
// Invariants: text from the server is inserted as text (never HTML); links point to the
// scene's `url` from the API, falling back to /scenes/{id}; body[data-state] ends as
// "ready" or "error" for tests. The language, text-only and preferences controls are site.js's.

import { api } from './api.js';
import { setUpChrome, startPage } from './site.js';

export class Landing {
  constructor(doc = document) {
    this.doc = doc;
    this.list = doc.getElementById('scene-list');
    this.status = doc.getElementById('scenes-status');
  }

  async start() {
    const [{ prefs, i18n }, result] = await Promise.all([
      startPage(this.doc),
      api.scenes().catch((error) => ({ error })),
    ]);
    this.i18n = i18n;
    i18n.apply(this.doc);
    setUpChrome({ doc: this.doc, i18n, prefs });
    if (result.error) {
      const { code = 'client_error', message = String(result.error) } = result.error;
      this.status.textContent = i18n.t('landing.error', { code, message });
      this.status.classList.add('status-error');
      this.doc.body.dataset.state = 'error';
      return;
    }
    const scenes = result.scenes || [];
    this.render(scenes);
    this.status.textContent = scenes.length ? '' : i18n.t('landing.empty');
    this.status.hidden = scenes.length > 0;
    this.doc.body.dataset.state = 'ready';
  }

  render(scenes) {
    const { doc, i18n } = this;
    this.list.replaceChildren(
      ...scenes.map((scene) => {
        const title = i18n.pick(scene.title) || scene.id;
        const item = doc.createElement('li');
        item.className = 'scene-card';
        item.dataset.sceneId = scene.id;

        const heading = doc.createElement('h3');
        const link = doc.createElement('a');
        link.href = scene.url || `/scenes/${encodeURIComponent(scene.id)}`;
        i18n.setText(link, scene.title);
        if (!link.textContent) link.textContent = title;
        heading.append(link);

        const description = doc.createElement('p');
        description.className = 'scene-card-description';
        i18n.setText(description, scene.description);

        item.append(heading, description);
        if (scene.capacity) {
          const meta = doc.createElement('p');
          meta.className = 'scene-card-meta';
          meta.textContent = i18n.t('landing.capacity', { capacity: scene.capacity });
          item.append(meta);
        }
        const visit = doc.createElement('span');
        visit.className = 'scene-card-visit';
        visit.setAttribute('aria-hidden', 'true');
        visit.textContent = `${i18n.t('landing.visit')} →`;
        item.append(visit);
        return item;
      }),
    );
  }
}

new Landing().start();
