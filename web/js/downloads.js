// Downloads — a scene's 3D asset (GLB) with byte progress, and its walkable grid. No three.js here:
// the page starts these downloads as soon as the manifest arrives, while three.js itself is still
// loading, so the slow link carries both at once.
//
// The GLB is read as a stream so progress can be reported against the manifest's `asset.bytes`
// (compressed responses carry no usable Content-Length).
// Invariants: progress fractions are monotonic in [0, 1]; every failure is an ApiError with a code.

import { ApiError, request } from './api.js';
import { WalkGrid } from './walk-grid.js';

/** The manifest's `asset` as an ArrayBuffer; onProgress(fraction) as bytes arrive. */
export function downloadAsset(asset, onProgress = () => {}) {
  return fetchWithProgress(asset.url, asset.bytes, onProgress);
}

/** The manifest's `walkable` grid, parsed, or null when the scene has none. */
export async function downloadWalkGrid(walkable) {
  if (!walkable || !walkable.url) return null;
  const response = await request(walkable.url);
  const buffer = await response.arrayBuffer();
  try {
    return WalkGrid.fromArrayBuffer(buffer, walkable);
  } catch (error) {
    throw new ApiError('walkable_unreadable', `The walkable floor could not be read: ${error.message}`);
  }
}

async function fetchWithProgress(url, expectedBytes, onProgress) {
  const response = await request(url);
  const total = expectedBytes > 0 ? expectedBytes : Number(response.headers.get('Content-Length')) || 0;
  if (!response.body || !response.body.getReader) {
    const buffer = await response.arrayBuffer();
    onProgress(1);
    return buffer;
  }
  const reader = response.body.getReader();
  let bytes = new Uint8Array(total || 1 << 20);
  let loaded = 0;
  let reported = 0;
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch (error) {
      throw new ApiError('network_error', `The download of the 3D model was interrupted: ${error.message}`);
    }
    if (chunk.done) break;
    const value = chunk.value;
    if (loaded + value.byteLength > bytes.byteLength) {
      const grown = new Uint8Array(Math.max(bytes.byteLength * 2, loaded + value.byteLength));
      grown.set(bytes.subarray(0, loaded));
      bytes = grown;
    }
    bytes.set(value, loaded);
    loaded += value.byteLength;
    const fraction = total ? Math.min(loaded / total, 1) : 0;
    if (fraction > reported) {
      reported = fraction;
      onProgress(fraction);
    }
  }
  onProgress(1);
  return bytes.byteLength === loaded ? bytes.buffer : bytes.slice(0, loaded).buffer;
}
