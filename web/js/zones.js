// Zones — the named areas of a scene (manifest `zones`, each an axis-aligned box `area.min/max` in
// metres): which zone a point is in, and where to put a walker who jumps to a zone.
//
// Pure (no DOM, no three.js). Invariants: when boxes nest (the staircase inside the stair hall),
// the smallest box containing the point wins; a jump target is always a point where the walker can
// stand — the walkable cell nearest the zone's centre with room around it — or, without a walkable
// grid (text mode), the centre of the zone at its floor height `area.min[1]`.

const FEET_TOLERANCE = 0.5; // metres below a zone's floor still count as in it (stairs, a low step)

function planArea({ area }) {
  return (area.max[0] - area.min[0]) * (area.max[2] - area.min[2]);
}

/** The zone holding `position` ([x, y, z] of the feet), or null. */
export function zoneAt(zones, position) {
  if (!position) return null;
  const [x, y, z] = position;
  let best = null;
  for (const zone of zones || []) {
    const { min, max } = zone.area;
    if (x < min[0] || x > max[0] || z < min[2] || z > max[2]) continue;
    if (y < min[1] - FEET_TOLERANCE || y >= max[1]) continue;
    if (!best || planArea(zone) < planArea(best)) best = zone;
  }
  return best;
}

/** Centre of a zone at its floor height. */
export function zoneCentre({ area }) {
  return [(area.min[0] + area.max[0]) / 2, area.min[1], (area.min[2] + area.max[2]) / 2];
}

/**
 * Where to stand when jumping to `zone`: [x, y, z]. With a WalkGrid, the cell nearest the centre
 * whose floor lies in the zone's height range and whose neighbours one body radius away are floor
 * at about the same height (not against a wall, not on a stair edge); lower floors win ties, so a
 * zone spanning two storeys is entered at its lower one. With `zones`, the spot must also be in
 * this zone and not in a smaller one nested in it (so "where am I" agrees with the jump).
 */
export function zoneTarget(zone, grid = null, { zones = null, radius = 0.3, maxStep = 0.35 } = {}) {
  const centre = zoneCentre(zone);
  if (!grid) return centre;
  const { min, max } = zone.area;
  const cell = grid.cell;
  let best = null;
  let bestScore = Infinity;
  for (let x = min[0] + cell / 2; x < max[0]; x += cell) {
    for (let z = min[2] + cell / 2; z < max[2]; z += cell) {
      const distance = Math.hypot(x - centre[0], z - centre[2]);
      if (distance >= bestScore) continue;
      for (const floor of grid.floorsAt(x, z)) {
        if (floor < min[1] - 0.05 || floor >= max[1]) continue;
        const roomy = [[radius, 0], [-radius, 0], [0, radius], [0, -radius]].every(([dx, dz]) =>
          grid.floorsAt(x + dx, z + dz).some((f) => Math.abs(f - floor) <= maxStep / 2),
        );
        if (!roomy) continue;
        if (zones && zoneAt(zones, [x, floor, z]) !== zone) continue;
        const score = distance + (floor - min[1]) * 0.5;
        if (score < bestScore) {
          bestScore = score;
          best = [x, floor, z];
        }
        break; // floors ascend: the lowest fitting one is the one to stand on
      }
    }
  }
  return best || centre;
}
