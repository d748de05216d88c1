// RoomView — the resident's place in the scene's room: the connection (presence.js), the People, Chat and
// Settings panels (presence-ui.js) and, in 3D only, the avatars of the others (avatars.js, three.js).
// Keeps the room's instance in the address (an overflow instance survives reload and sharing) and the
// connection's life in step with the page's (closed on pagehide, rejoined on a back/forward-cache return).
//
// Given the few things it needs: the page's i18n, announcer and preferences, the scene id, the address,
// and `getPose` (the walker's pose, or null before there is one); the 3D parts arrive through `show3D`.
// Invariants: presence is optional — the roster and chat work without WebGL and walking works without a
// connection; avatars.js is imported only by `show3D`; `remote()` gives yaw in degrees, as rendered.

import { Presence } from './presence.js';
import { PresencePanel } from './presence-ui.js';
import { instanceFromSearch } from './page-address.js';

const DEGREES = 180 / Math.PI;

export class RoomView {
  /**
   * @param {Document} doc
   * @param {{i18n: import('./i18n.js').I18n, announcer: import('./announcer.js').Announcer,
   *          prefs: import('./prefs.js').Prefs, sceneId: string, getPose: () => object | null,
   *          location?: Location, history?: History}} options
   */
  constructor(doc, { i18n, announcer, prefs, sceneId, getPose, location = window.location, history = window.history }) {
    this.avatars = null;
    this.invalidate = () => {};
    this.namesVisible = true;
    const params = new URLSearchParams(location.search);
    const instance = instanceFromSearch(location.search);
    const connection = (this.connection = new Presence({ sceneId, instance, getPose }));
    this.panel = new PresencePanel(doc, i18n, announcer, connection, {
      prefs,
      onNamesVisible: (visible) => {
        this.namesVisible = visible;
        this.avatars?.setNamesVisible(visible);
        this.invalidate();
      },
    });
    connection.on('welcome', (info) => {
      this.avatars?.setTickRate(info.tickHz);
      if (info.instance !== instance || params.has('instance')) {
        // Keep the overflow instance on reload and when the link is shared.
        const url = new URL(location.href);
        url.searchParams.set('instance', String(info.instance));
        history.replaceState(history.state, '', url);
      }
    });
    connection.on('members', (members) => this.syncAvatars(members));
    connection.on('frame', (frame) => this.avatars?.push(frame));
    addEventListener('pagehide', () => connection.close());
    // Back from the browser's back/forward cache: the page is alive again, so is its place in the room.
    addEventListener('pageshow', (event) => {
      if (event.persisted) connection.reconnectNow();
    });
    connection.connect();
  }

  /** Name tags on or off (the N key and its shortcut). */
  toggleNames() {
    this.panel.toggleNames();
  }

  /** The avatars of the others in the 3D view: `scene` to add them to, `invalidate` to ask for a redraw. */
  async show3D({ scene, invalidate }) {
    const { Avatars } = await import('./avatars.js'); // already fetched with the viewer's modules
    this.invalidate = invalidate;
    this.avatars = new Avatars(scene, { tickHz: this.connection.tickHz });
    this.avatars.setNamesVisible(this.namesVisible);
    this.syncAvatars();
  }

  syncAvatars(members = this.connection.members()) {
    if (!this.avatars) return;
    this.avatars.setMembers(members, this.connection.id);
    this.invalidate();
  }

  /** Once a frame: moves the avatars between snapshots; true when the view needs drawing again. */
  update(time) {
    return Boolean(this.avatars?.update(time));
  }

  /** The others as rendered: [{id, name, position: [x, y, z] (feet, metres), yaw (degrees)}]. */
  remote() {
    return (this.avatars?.list() ?? []).map((a) => ({ ...a, yaw: a.yaw * DEGREES }));
  }
}
