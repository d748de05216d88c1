// Navigation — where the resident is, and every way to jump somewhere else: the entrance (button, key R,
// shortcut), the named places (the mirror's list of zones and "Where am I?"), the guided tour's stops and
// the spot in front of a hotspot. It keeps the mirror's "You are in…" line current and says each jump once.
//
// Given the few things it needs: the page's i18n and announcer, the manifest (zones, spawn, tour) and an
// `onJump` callback (the 3D view drops key time from before the jump and redraws). The walker arrives later
// (`setWalker`), when the floor grid has been downloaded — or at once without one in text mode.
// Invariants: the walker is the only pose, a jump is a jump cut (`walker.placeAt`); a jump by the resident
// stops the guided tour, a tour stop does not; walking into another zone is announced ("Now in…"), a jump
// is announced once by whoever made it, never twice. No three.js and no DOM of its own here.

import { Mirror } from './mirror.js';
import { Tour } from './tour.js';
import { standingSpot } from './hotspots.js';
import { zoneAt, zoneTarget } from './zones.js';

const DEGREES = 180 / Math.PI;

export class Navigation {
  /**
   * @param {Document} doc
   * @param {{i18n: import('./i18n.js').I18n, announcer: import('./announcer.js').Announcer,
   *          manifest: {zones?: Array, spawn?: Array, tour?: Array}, onJump?: () => void}} options
   */
  constructor(doc, { i18n, announcer, manifest, onJump = () => {} }) {
    this.i18n = i18n;
    this.announcer = announcer;
    this.zones = manifest.zones || [];
    this.spawn = (manifest.spawn && manifest.spawn[0]) || { position: [0, 0, 0], yaw: 0 };
    this.onJump = onJump;
    this.walker = null;
    this.grid = null;
    this.zone = null; // the zone the walker is in (shown in the mirror)
    this.mirror = new Mirror(doc, {
      i18n,
      zones: this.zones,
      onZone: (zone) => this.goToZone(zone),
      onWhereAmI: () => this.whereAmI(),
    });
    this.tour = new Tour(doc, {
      i18n,
      announcer,
      stops: manifest.tour || [],
      goTo: (stop) => this.teleport(stop.position, stop.yaw || 0, stop.pitch || 0),
      placeName: (stop) => {
        const zone = this.zoneAt(stop.position);
        return zone ? i18n.pickWithLang(zone.name) : null;
      },
    });
  }

  /** The walker to move (and the floor grid it walks on, null without one): placed at the entrance, silently. */
  setWalker(walker, grid = null) {
    this.walker = walker;
    this.grid = grid;
    walker.placeAt(this.spawn.position, this.spawn.yaw || 0, this.spawn.pitch || 0);
    this.updateLocation(false);
  }

  /** The named place holding a point ([x, y, z] of the feet), or null. */
  zoneAt(position) {
    return zoneAt(this.zones, position);
  }

  /** The name of the zone holding a point, or "outside the named places" (the editor's form). */
  placeName(position) {
    const zone = this.zoneAt(position);
    return zone ? this.i18n.pick(zone.name) : this.i18n.t('hotspots.noPlace');
  }

  goToEntrance() {
    if (!this.walker) return;
    this.tour.stop();
    const spawn = this.spawn;
    this.teleport(spawn.position, spawn.yaw || 0, spawn.pitch || 0);
    this.announcer.say(this.i18n.t('scene.entranceAnnounce'));
  }

  /** A jump cut to a position (feet) and view direction in degrees: tour stops, zones, tests. */
  teleport(position, yawDeg = 0, pitchDeg = 0) {
    if (!this.walker) return;
    this.walker.placeAt(position, yawDeg, pitchDeg);
    this.onJump();
    this.updateLocation(false); // the jump's own announcement says where the resident is
  }

  /** Jump cut into a zone (by id or the zone object), facing as before; announced. */
  goToZone(zoneOrId) {
    const zone = typeof zoneOrId === 'string' ? this.zones.find((z) => z.id === zoneOrId) : zoneOrId;
    if (!zone || !this.walker) return;
    this.tour.stop();
    const target = zoneTarget(zone, this.grid, { zones: this.zones, maxStep: this.walker.maxStep });
    this.teleport(target, this.walker.yaw * DEGREES, 0);
    this.announceZone(zone);
  }

  /** Jump cut to about 2 m in front of a hotspot, on walkable floor, facing it (its panel says the rest). */
  goToHotspot(hotspot) {
    if (!hotspot || !this.walker) return;
    this.tour.stop();
    const w = this.walker;
    const spot = standingSpot(hotspot, this.grid, { from: [w.x, w.y, w.z], eyeHeight: w.eyeHeight, maxStep: w.maxStep });
    this.teleport(spot.position, spot.yaw, spot.pitch);
  }

  /** Says where the resident is ("where am I"): asked for, so said again even if just said. */
  whereAmI() {
    if (!this.walker) return;
    this.updateLocation(false);
    if (this.zone) this.announceZone(this.zone, { repeat: true });
    else this.announcer.say(this.i18n.t('places.outsideAnnounce'), { repeat: true });
  }

  announceZone(zone, options = {}) {
    const name = this.i18n.pickWithLang(zone.name);
    const description = this.i18n.pickWithLang(zone.description);
    this.announcer.say([this.i18n.t('places.youAreIn'), { text: `${name.text}:`, lang: name.lang }, description], options);
  }

  /** Works out the zone the walker is in; shows it, and names it when walking (`announce`) into a new one. */
  updateLocation(announce) {
    if (!this.walker) return;
    const zone = this.zoneAt([this.walker.x, this.walker.y, this.walker.z]);
    if (zone === this.zone) return;
    this.zone = zone;
    this.mirror.setLocation(zone);
    if (announce && zone) {
      const name = this.i18n.pickWithLang(zone.name);
      this.announcer.say([this.i18n.t('places.nowIn'), { text: name.text, lang: name.lang }]);
    }
  }
}
