// SceneLoader — turns a downloaded GLB (downloads.js) into a three.js scene with GLTFLoader and the
// meshopt decoder (EXT_meshopt_compression; KHR_mesh_quantization is native).
// Invariant: every failure is an ApiError with a code.

import { GLTFLoader, LoaderUtils, MeshoptDecoder } from '../vendor/three.js';
import { ApiError } from './api.js';

export class SceneLoader {
  constructor() {
    this.gltfLoader = new GLTFLoader();
    this.gltfLoader.setMeshoptDecoder(MeshoptDecoder);
  }

  /** Parses a downloaded GLB (see downloads.js); resolves to the glTF result. */
  async parseAsset(buffer, url) {
    try {
      return await this.gltfLoader.parseAsync(buffer, LoaderUtils.extractUrlBase(url));
    } catch (error) {
      throw new ApiError('asset_unreadable', `The 3D model could not be read: ${error.message || error}`);
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
