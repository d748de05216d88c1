// Viewer — the three.js side of the scene view: renderer, scene, camera, sky, resize handling
// and a render loop that only draws when something changed (weak devices and batteries).
//
// Materials: the scenes' textures are sampled anisotropically (floors seen at a glance stay crisp) and their
// baked ambient occlusion arrives as vertex colours, which GLTFLoader already multiplies into the base colour.
// High contrast (a preference): brighter exposure, no fog, and the edges of the architecture drawn
// as dark lines (EdgesGeometry, built once on first use, static like the model).
// Invariants: device pixel ratio capped at 2; output is sRGB with ACES filmic tone mapping;
// the camera uses rotation order YXZ (yaw, then pitch) to match the manifest's conventions;
// a frame is rendered whenever `invalidate()` was called since the last one.

import {
  ACESFilmicToneMapping,
  Box3,
  BoxGeometry,
  EdgesGeometry,
  Fog,
  Group,
  LineBasicMaterial,
  LineSegments,
  Mesh,
  MeshStandardMaterial,
  PerspectiveCamera,
  SRGBColorSpace,
  Scene,
  Vector3,
  WebGLRenderer,
} from '../vendor/three.js';
import { Sky } from './sky.js';

// Longer gaps (tab hidden, stalls) are clamped. Generous on purpose: a weak device (or a software
// renderer) may draw only 3 frames a second and must still walk at real speed; the walker sub-steps
// long frames, so collision stays exact.
const MAX_FRAME_SECONDS = 1.0;
const MAX_ANISOTROPY = 4; // enough for floors at walking height; more costs fill rate on phones

export class Viewer {
  /** @param {HTMLCanvasElement} canvas  @param {HTMLElement} container sized by CSS */
  constructor(canvas, container) {
    this.canvas = canvas;
    this.container = container;
    this.renderer = new WebGLRenderer({ canvas, antialias: true, powerPreference: 'default' });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    this.renderer.outputColorSpace = SRGBColorSpace;
    this.renderer.toneMapping = ACESFilmicToneMapping;
    this.renderer.toneMappingExposure = 1.0;

    this.scene = new Scene();
    this.camera = new PerspectiveCamera(70, 1, 0.1, 400);
    this.camera.rotation.order = 'YXZ';
    this.sky = new Sky();
    this.sky.addTo(this.scene, this.renderer);
    this.scene.fog = new Fog(this.sky.horizonColor, 120, 400);

    this.needsRender = true;
    this.lastTime = 0;
    this.resize();
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(container);
    canvas.addEventListener('webglcontextlost', (event) => event.preventDefault());
    canvas.addEventListener('webglcontextrestored', () => this.invalidate());
  }

  /** Adds the loaded scene graph; fits the far plane and fog to its size. */
  setModel(root) {
    root.updateMatrixWorld(true);
    const anisotropy = Math.min(MAX_ANISOTROPY, this.renderer.capabilities.getMaxAnisotropy());
    root.traverse((object) => {
      object.matrixAutoUpdate = false; // static architecture: skip per-frame matrix updates
      const map = object.material?.map;
      if (map && map.anisotropy !== anisotropy) {
        map.anisotropy = anisotropy;
        map.needsUpdate = true;
      }
    });
    this.scene.add(root);
    this.model = root;
    const size = new Box3().setFromObject(root).getSize(new Vector3()).length();
    const far = Math.min(Math.max(200, size * 2), 5000);
    this.camera.far = far;
    this.camera.updateProjectionMatrix();
    this.scene.fog.near = Math.max(60, size * 0.6);
    this.scene.fog.far = far;
    this.invalidate();
  }

  /** High-contrast palette on or off (cheap: one line set over the model, drawn only when on). */
  setHighContrast(on) {
    if (Boolean(on) === Boolean(this.highContrast)) return;
    this.highContrast = Boolean(on);
    if (on && !this.edges && this.model) this.edges = buildEdges(this.model);
    if (this.edges) {
      if (!this.edges.parent) this.scene.add(this.edges);
      this.edges.visible = this.highContrast;
    }
    this.renderer.toneMappingExposure = on ? 1.45 : 1.0;
    if (this.scene.fog) {
      this.fogRange ??= [this.scene.fog.near, this.scene.fog.far];
      [this.scene.fog.near, this.scene.fog.far] = on ? [1e5, 1e6] : this.fogRange;
    }
    this.invalidate();
  }

  /** Places the camera: eye position in metres, yaw/pitch in radians. */
  setView(x, eyeY, z, yaw, pitch) {
    this.camera.position.set(x, eyeY, z);
    this.camera.rotation.set(pitch, yaw, 0);
    this.invalidate();
  }

  invalidate() {
    this.needsRender = true;
  }

  resize() {
    const width = Math.max(1, this.container.clientWidth);
    const height = Math.max(1, this.container.clientHeight);
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    this.renderer.setSize(width, height, false);
    this.camera.aspect = width / height;
    this.camera.updateProjectionMatrix();
    this.invalidate();
  }

  /** Compiles the shaders a glTF scene needs while its bytes are still downloading: PBR materials, opaque and
   * transparent, under this scene's lights and sky, so the first real frame finds them ready (shader
   * compilation is most of the first frame on a weak GPU or a software renderer). The probe materials stay
   * alive until the model holds the programs: disposing them earlier would release the programs. */
  warmUp() {
    const geometry = new BoxGeometry(0.01, 0.01, 0.01);
    const probe = new Group();
    probe.add(new Mesh(geometry, new MeshStandardMaterial()));
    probe.add(new Mesh(geometry, new MeshStandardMaterial({ transparent: true, opacity: 0.5, depthWrite: false })));
    this.scene.add(probe);
    try {
      this.renderer.compile(this.scene, this.camera);
    } finally {
      this.scene.remove(probe);
    }
    this.warmProbe = probe;
  }

  /** Compiles the scene's shaders without blocking the page (where the browser allows). */
  async prepare() {
    if (!this.renderer.extensions.has('KHR_parallel_shader_compile')) return; // would block anyway
    try {
      await this.renderer.compileAsync(this.scene, this.camera);
    } catch {
      // compiling at the first render instead is fine
    }
  }

  /** Starts the loop: update(dtSeconds, timeMs) runs every frame, rendering follows when needed. */
  start(update) {
    this.renderer.setAnimationLoop((time) => {
      const dt = this.lastTime ? Math.min((time - this.lastTime) / 1000, MAX_FRAME_SECONDS) : 0;
      this.lastTime = time;
      update(dt, time);
      if (this.needsRender) this.render();
    });
  }

  render() {
    this.needsRender = false;
    this.sky.follow(this.camera);
    this.renderer.render(this.scene, this.camera);
  }
}

/** Dark lines along the model's creases (faces meeting at more than 30°), in world space. */
function buildEdges(root) {
  const group = new Group();
  const material = new LineBasicMaterial({ color: 0x101010 });
  root.traverse((object) => {
    if (!object.isMesh || object.isInstancedMesh || object.isSkinnedMesh || !object.geometry) return;
    const lines = new LineSegments(new EdgesGeometry(object.geometry, 30), material);
    lines.matrixAutoUpdate = false;
    lines.matrix.copy(object.matrixWorld);
    lines.matrixWorld.copy(object.matrixWorld);
    group.add(lines);
  });
  group.matrixAutoUpdate = false;
  return group;
}
