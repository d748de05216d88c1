// webgl-support — tells, before anything 3D is downloaded, whether this browser can show the
// 3D view. three.js r187 renders with WebGL 2 only.
//
// Invariant: the probe context is released at once (browsers cap live contexts).

let answer = null; // probed once per page: every probe costs a context

export function hasWebGL2() {
  answer ??= probe();
  return answer;
}

function probe() {
  try {
    const canvas = document.createElement('canvas');
    const gl = canvas.getContext('webgl2', { failIfMajorPerformanceCaveat: false });
    if (!gl) return false;
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return true;
  } catch {
    return false;
  }
}
