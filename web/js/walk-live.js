// Walk live — a scene's corrected walkable floor and spawn points reach an open page: from the `places` event
// staff edits push (it carries the scene's `walkable` and `spawn` when they changed), or from the walk editor's
// own listing after a write. The walker and the navigation take the new grid (3D: downloaded once per address,
// addresses being content hashes) and the new entrance (spawn[0]) at once; a resident standing where the
// floor changed is not moved (the next step follows the new floor).

/**
 * @param {{mode: string, walker?: object, navigation?: object, walkable?: object | null}} parts  the page's
 * @param {{walkable?: {url: string}, spawn?: Array}} message
 */
export async function applyWalkable(parts, { walkable, spawn }) {
  if (spawn?.length && parts.navigation) parts.navigation.spawn = spawn[0];
  if (!walkable?.url || (parts.walkable && parts.walkable.url === walkable.url)) return;
  parts.walkable = walkable;
  if (parts.mode !== '3d' || !parts.walker) return; // text mode walks without a floor grid
  const { downloadWalkGrid } = await import('./downloads.js'); // 3D only, like the first grid
  const grid = await downloadWalkGrid(walkable);
  if (parts.walkable !== walkable) return; // a newer one arrived meanwhile
  parts.walker.grid = grid;
  if (parts.navigation) parts.navigation.grid = grid;
}
