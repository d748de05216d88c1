// SceneLoader — turns a downloaded GLB (downloads.js) into a three.js scene with GLTFLoader and the
// meshopt decoder (EXT_meshopt_compression; KHR_mesh_quantization is native).
//
// Imported scenes come in levels of detail (the scene document's `lods`, coarsest first; the first is the asset
// the page downloads). The loader keeps the model it returned up to date: once the model is in a scene, every
// render tells it where the camera is (the scene's onBeforeRender), and when the viewer comes close enough
// (detail-stream.js decides) it fetches the next level, parses it, uploads its textures, and swaps the model's
// children for the finer ones between two frames — same place, same materials, a difference of about a pixel.
// The canvas carries what is shown: `data-detail-level` (index into `lods`), `data-detail-levels`,
// `data-detail-triangles`, and `data-detail-loading` while a level is on its way.
// Invariants: every failure is an ApiError with a code (a finer level that fails is reported on the console
// and the scene keeps the level it has); under reduced data (Save-Data) no finer level is ever fetched;
// a scene without `lods` (the bundled ones) costs nothing more.

import { Box3, GLTFLoader, LoaderUtils, MeshoptDecoder } from '../vendor/three.js';
import { ApiError, api } from './api.js';
import { DetailPlan, distanceToBox } from './detail-stream.js';
import { downloadAsset } from './downloads.js';
import { sceneIdFromLocation } from './page-address.js';

const TEXTURE_SLOTS = ['map', 'normalMap', 'roughnessMap', 'metalnessMap', 'aoMap', 'emissiveMap', 'alphaMap'];

export class SceneLoader {
  constructor() {
    this.gltfLoader = new GLTFLoader();
    this.gltfLoader.setMeshoptDecoder(MeshoptDecoder);
  }

  /** Parses a downloaded GLB (see downloads.js); resolves to the glTF result, whose scene then streams its finer
   * levels of detail (if the scene has any) once it is added to a three.js scene. */
  async parseAsset(buffer, url) {
    // Asked while the model parses, so the stream is attached before the first frame is drawn.
    const levels = sceneLevels();
    levels.catch(() => {}); // reported by start(), if the model parses at all
    const gltf = await this.parse(buffer, url);
    this.detail = new DetailStream(this, gltf.scene, url);
    this.detail.start(levels).catch((error) => console.warn('Finer detail unavailable:', error.message || error));
    return gltf;
  }

  async parse(buffer, url) {
    try {
      return await this.gltfLoader.parseAsync(buffer, LoaderUtils.extractUrlBase(url));
    } catch (error) {
      throw new ApiError('asset_unreadable', `The 3D model could not be read: ${error.message || error}`);
    }
  }
}

/** Streams the finer levels of one model (see the module comment). */
class DetailStream {
  constructor(loader, root, firstUrl) {
    this.loader = loader;
    this.root = root;
    this.firstUrl = firstUrl;
    this.plan = null;
    this.canvas = null;
  }

  async start(levels) {
    const lods = await levels;
    if (lods.length < 2 || lods[0].url !== this.firstUrl) return;
    this.plan = new DetailPlan(lods, { saveData: navigator.connection?.saveData === true });
    if (this.root.parent) this.attach(this.root.parent);
    else this.root.addEventListener('added', () => this.attach(this.root.parent), { once: true });
  }

  attach(scene) {
    const previous = scene.onBeforeRender;
    scene.onBeforeRender = (renderer, ...rest) => {
      previous.call(scene, renderer, ...rest);
      this.frame(renderer, scene, rest[1]);
    };
  }

  frame(renderer, scene, camera) {
    Object.assign(this, { renderer, scene, camera });
    if (!this.canvas) {
      this.canvas = renderer.domElement;
      this.box = new Box3().setFromObject(this.root);
      this.show();
    }
    const view = {
      distance: distanceToBox(camera.position.toArray(), this.box.min.toArray(), this.box.max.toArray()),
      heightPx: renderer.domElement.height,
      fovDeg: camera.fov,
    };
    const index = this.plan.next(view);
    if (index >= 0) this.fetch(index);
  }

  async fetch(index) {
    const level = this.plan.levels[index];
    this.plan.begin(index);
    this.canvas.dataset.detailLoading = String(index);
    try {
      const buffer = await downloadAsset(level);
      const gltf = await this.loader.parse(buffer, level.url);
      this.swap(gltf.scene);
      this.plan.done(index);
    } catch (error) {
      this.plan.fail(index);
      console.warn(`Level of detail ${index} unavailable:`, error.message || error);
    }
    delete this.canvas.dataset.detailLoading;
    this.show();
  }

  /** Replaces the model's children with `next`'s, prepared as viewer.js prepares a model, then draws a frame. */
  swap(next) {
    const { renderer, scene, camera, root } = this;
    let anisotropy = 1;
    root.traverse((object) => {
      anisotropy = Math.max(anisotropy, object.material?.map?.anisotropy || 1);
    });
    next.updateMatrixWorld(true);
    next.traverse((object) => {
      object.matrixAutoUpdate = false; // static architecture, as viewer.js sets it
      for (const texture of textures(object)) {
        if (texture === object.material.map) texture.anisotropy = anisotropy;
        renderer.initTexture(texture); // uploaded now, not in the middle of the first frame that shows it
      }
    });
    const old = [...root.children];
    root.remove(...old);
    root.add(...next.children);
    root.updateMatrixWorld(true);
    this.triangles = countTriangles(root);
    // The viewer draws only when something changed: draw the finer level now, even if the resident stands still.
    requestAnimationFrame(() => {
      renderer.render(scene, camera);
      for (const object of old) dispose(object);
    });
  }

  show() {
    const data = this.canvas.dataset;
    data.detailLevel = String(this.plan.loaded);
    data.detailLevels = String(this.plan.levels.length);
    data.detailTriangles = String(this.triangles ?? countTriangles(this.root));
  }
}

/** The scene document's `lods` (none for a hand-written scene). The page fetched the document a moment ago;
 * asking again revalidates it (a 304) rather than threading it through the page's start-up. */
async function sceneLevels() {
  const doc = await api.scene(sceneIdFromLocation(location));
  return Array.isArray(doc.lods) ? doc.lods : [];
}

function materials(object) {
  if (!object.material) return [];
  return Array.isArray(object.material) ? object.material : [object.material];
}

function textures(object) {
  return materials(object).flatMap((material) => TEXTURE_SLOTS.map((slot) => material[slot]).filter(Boolean));
}

function dispose(root) {
  root.traverse((object) => {
    object.geometry?.dispose();
    for (const texture of textures(object)) texture.dispose();
    for (const material of materials(object)) material.dispose();
  });
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
