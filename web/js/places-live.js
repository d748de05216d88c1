// Places live — puts a scene's new zones and tour (the merged lists of a `places` event, or of
// GET /api/scenes/{id}/places after a staff edit) into the page: the navigation's zones (where am I, jumps),
// the mirror's list of places and the guided tour with its list of every stop.
//
// Invariants: the lists replace what was shown (the server always sends them whole); items that stay keep
// their elements (MirrorList.render reuses them, so focus survives); nothing is announced here (whoever
// made the change says so once); no three.js.

/**
 * @param {import('./navigation.js').Navigation} navigation
 * @param {{zones?: Array, tour?: Array}} places
 */
export function applyPlaces(navigation, { zones = [], tour = [] }) {
  navigation.zones = zones;
  navigation.mirror.zones.render(zones);
  navigation.mirror.section.hidden = false;
  const placeName = (stop) => {
    const zone = (stop.zone && zones.find((z) => z.id === stop.zone)) || navigation.zoneAt(stop.position);
    return zone ? navigation.i18n.pickWithLang(zone.name) : null;
  };
  navigation.tour.setStops(tour, placeName);
  navigation.zone = undefined; // recompute "You are in…" against the new zones
  navigation.updateLocation(false);
}
