"""Deterministic generators for the bundled scenes (the town hall and the public square).

Everything here is pure array code that ends in a GLB file: the same code and the same library versions give
byte-identical output (no clocks, no unseeded randomness, no dict-order surprises). Coordinates are metres,
+Y up, ground floor at y = 0. Run `python -m server.scenegen.build` to regenerate `assets/gltf/*.glb`.
"""
