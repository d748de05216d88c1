// Sky — a daylight sky for a scene: a gradient dome that follows the camera, a hemisphere
// light, a sun (directional light) and an image-based environment made from the dome itself
// (so glTF PBR materials get plausible reflections without downloading an HDR).
//
// The scenes carry their own ambient occlusion (baked into vertex colours), so the ambient terms here are
// generous: the hemisphere's ground colour stands for light bounced off floors, which is what lights a
// ceiling; the sun is a little softer than noon so faces turned away from it keep their texture.
// Invariants: the dome never writes depth and ignores fog, so it is always behind the scene;
// everything here is generated in code (no texture requests).

import {
  BackSide,
  Color,
  DirectionalLight,
  HemisphereLight,
  Mesh,
  PMREMGenerator,
  Scene,
  ShaderMaterial,
  SphereGeometry,
  Vector3,
} from '../vendor/three.js';

const VERTEX_SHADER = /* glsl */ `
varying vec3 vDirection;
void main() {
  vDirection = normalize(position);
  vec4 clip = projectionMatrix * modelViewMatrix * vec4(position, 1.0);
  gl_Position = clip.xyww; // on the far plane
}`;

const FRAGMENT_SHADER = /* glsl */ `
uniform vec3 zenithColor;
uniform vec3 horizonColor;
uniform vec3 groundColor;
uniform vec3 sunColor;
uniform vec3 sunDirection;
varying vec3 vDirection;
void main() {
  vec3 direction = normalize(vDirection);
  float up = direction.y;
  vec3 color = up > 0.0
    ? mix(horizonColor, zenithColor, pow(up, 0.55))
    : mix(horizonColor, groundColor, pow(min(-up * 3.0, 1.0), 0.7));
  float sun = max(dot(direction, sunDirection), 0.0);
  color += sunColor * (pow(sun, 600.0) * 4.0 + pow(sun, 12.0) * 0.12);
  gl_FragColor = vec4(color, 1.0);
  #include <colorspace_fragment>
}`;

export const SKY_COLORS = {
  zenith: '#3f7fc4',
  horizon: '#cfe3f2',
  ground: '#8d8f86',
  sun: '#fff1d6',
};

const BOUNCE_COLOR = '#b3a58f'; // warm stone and wood floors

export class Sky {
  /** @param {{sunElevation?: number, sunAzimuth?: number}} options degrees */
  constructor({ sunElevation = 52, sunAzimuth = 215 } = {}) {
    const elevation = (sunElevation * Math.PI) / 180;
    const azimuth = (sunAzimuth * Math.PI) / 180;
    this.sunDirection = new Vector3(
      Math.cos(elevation) * Math.sin(azimuth),
      Math.sin(elevation),
      Math.cos(elevation) * Math.cos(azimuth),
    );
    const uniforms = {
      zenithColor: { value: new Color(SKY_COLORS.zenith) },
      horizonColor: { value: new Color(SKY_COLORS.horizon) },
      groundColor: { value: new Color(SKY_COLORS.ground) },
      sunColor: { value: new Color(SKY_COLORS.sun) },
      sunDirection: { value: this.sunDirection },
    };
    this.material = new ShaderMaterial({
      uniforms,
      vertexShader: VERTEX_SHADER,
      fragmentShader: FRAGMENT_SHADER,
      side: BackSide,
      depthWrite: false,
      fog: false,
      toneMapped: false,
    });
    this.dome = new Mesh(new SphereGeometry(1, 32, 16), this.material);
    this.dome.name = 'sky-dome';
    this.dome.frustumCulled = false;
    this.dome.renderOrder = -1;

    this.hemisphere = new HemisphereLight(SKY_COLORS.horizon, BOUNCE_COLOR, 1.0);
    this.sun = new DirectionalLight(SKY_COLORS.sun, 2.6);
    this.sun.position.copy(this.sunDirection).multiplyScalar(100);
    this.horizonColor = new Color(SKY_COLORS.horizon);
  }

  /** Adds the dome and the lights to `scene`, and an environment map rendered from the dome. */
  addTo(scene, renderer) {
    scene.add(this.dome, this.hemisphere, this.sun, this.sun.target);
    const pmrem = new PMREMGenerator(renderer);
    const envScene = new Scene();
    const envDome = new Mesh(this.dome.geometry, this.material);
    envDome.scale.setScalar(10);
    envScene.add(envDome);
    this.environment = pmrem.fromScene(envScene, 0.04).texture;
    pmrem.dispose();
    scene.environment = this.environment;
    scene.environmentIntensity = 0.5;
  }

  /** Keeps the dome centred on the camera, just inside the far plane. */
  follow(camera) {
    this.dome.position.copy(camera.position);
    this.dome.scale.setScalar(camera.far * 0.9);
  }
}
