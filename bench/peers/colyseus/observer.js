// Observers for bench/presence_compare.py: join the Colyseus room with its own client (colyseus.js, which decodes
// the schema patches), and for every avatar whose yaw changed (a bot's move k carries k in its yaw) record
// now - the move's scheduled time (epoch + the bot's phase + k / rate). Prints one JSON line:
// {"p50": ms, "p99": ms, "p99.9": ms, "updates": n}.
// usage: node observer.js URL COUNT PHASES_JSON EPOCH RATE MEASURE_FROM END
const fs = require("fs");
const { Client } = require("colyseus.js");

const [url, count, phasesFile, epoch, rate, measureFrom, end] = process.argv.slice(2);
const phases = JSON.parse(fs.readFileSync(phasesFile, "utf8")); // sessionId -> phase in seconds

async function observe() {
  const room = await new Client(url).joinOrCreate("square");
  const last = new Map();
  const latencies = [];
  room.onStateChange((state) => {
    const now = Date.now() / 1000;
    state.avatars.forEach((avatar, sessionId) => {
      if (last.get(sessionId) === avatar.yaw) return;
      last.set(sessionId, avatar.yaw);
      const phase = phases[sessionId];
      if (phase === undefined || now < Number(measureFrom)) return;
      latencies.push((now - (Number(epoch) + phase + avatar.yaw / Number(rate))) * 1000);
    });
  });
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(end) * 1000 - Date.now())));
  await room.leave();
  return latencies;
}

function percentile(sorted, p) {
  if (!sorted.length) return null;
  const rank = (p / 100) * (sorted.length - 1); // linear interpolation, as numpy's default
  const low = Math.floor(rank);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
}

Promise.all(Array.from({ length: Number(count) }, observe)).then((all) => {
  const latencies = Float64Array.from(all.flat()).sort();
  const result = { updates: latencies.length };
  for (const p of [50, 99, 99.9]) result[`p${p}`] = percentile(latencies, p);
  process.stdout.write(JSON.stringify(result) + "\n", () => process.exit(0));
});
