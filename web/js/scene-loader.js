// SceneLoader — downloads a scene's 3D asset (GLB) with byte progress and its walkable grid.
//
// The GLB is fetched as a stream so progress can be reported against the manifest's
// `asset.bytes` (compressed responses carry no usable Content-Length), then parsed by three's
// GLTFLoader with the meshopt decoder (EXT_meshopt_compression; KHR_mesh_quantization is native).
// Invariants: progress fractions are monotonic in [0, 1]; every failure is an ApiError with a code.

import { GLTFLoader, LoaderUtils, MeshoptDecoder } from '../vendor/three.js';
import { ApiError, request } from './api.js';
import { WalkGrid } from './walk-grid.js';

export class SceneLoader {
  constructor() {
    this.gltfLoader = new GLTFLoader();
    this.gltfLoader.setMeshoptDecoder(MeshoptDecoder);
  }

  /** Loads the manifest's `asset`; onProgress(fraction) as bytes arrive. Resolves to the glTF result. */
  async loadAsset(asset, onProgress = () => {}) {
    const buffer = await fetchWithProgress(asset.url, asset.bytes, onProgress);
    try {
      return await this.gltfLoader.parseAsync(buffer, LoaderUtils.extractUrlBase(asset.url));
    } catch (error) {
      throw new ApiError('asset_unreadable', `The 3D model could not be read: ${error.message || error}`);
    }
  }

  /** Loads the manifest's `walkable` grid, or resolves to null when the scene has none. */
  async loadWalkGrid(walkable) {
    if (!walkable || !walkable.url) return null;
    const response = await request(walkable.url);
    const buffer = await response.arrayBuffer();
    try {
      return WalkGrid.fromArrayBuffer(buffer, walkable);
    } catch (error) {
      throw new ApiError('walkable_unreadable', `The walkable floor could not be read: ${error.message}`);
    }
  }
}

/** Counts the triangles drawn by an object tree (indexed or not). */
export function countTriangles(root) {
  let triangles = 0;
  root.traverse((object) => {
    if (!object.isMesh || !object.geometry) return;
    const geometry = object.geometry;
    const count = geometry.index ? geometry.index.count : geometry.attributes.position?.count || 0;
    triangles += Math.floor(count / 3) * (object.isInstancedMesh ? object.count : 1);
  });
  return triangles;
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
