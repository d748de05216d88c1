// A minimal Colyseus 0.16 room for bench/presence_compare.py: everyone in one room, each resident's pose in the
// room's state, patches at 20 Hz (Colyseus sends every client every change: no interest management).
// Moves are ROOM_DATA messages of type 1 carrying [x, y, z, yaw, pitch] (quantised like Civic Space's poses).
// PORT (default 2567); prints "Colyseus is running at http://127.0.0.1:PORT/" once listening.
const { Server, Room } = require("@colyseus/core");
const { WebSocketTransport } = require("@colyseus/ws-transport");
const { Schema, MapSchema, defineTypes } = require("@colyseus/schema");

class Avatar extends Schema {}
defineTypes(Avatar, { x: "uint16", y: "uint16", z: "uint16", yaw: "uint16", pitch: "uint8" });

class SquareState extends Schema {
  constructor() {
    super();
    this.avatars = new MapSchema();
  }
}
defineTypes(SquareState, { avatars: { map: Avatar } });

class Square extends Room {
  onCreate() {
    this.maxClients = 10000;
    this.autoDispose = false;
    this.setState(new SquareState());
    this.setPatchRate(50); // 20 Hz, as Civic Space's tick
    this.onMessage(1, (client, move) => {
      const avatar = this.state.avatars.get(client.sessionId);
      if (!avatar || !Array.isArray(move) || move.length !== 5) return;
      [avatar.x, avatar.y, avatar.z, avatar.yaw, avatar.pitch] = move;
    });
  }

  onJoin(client) {
    this.state.avatars.set(client.sessionId, new Avatar());
  }

  onLeave(client) {
    this.state.avatars.delete(client.sessionId);
  }
}

const port = Number(process.env.PORT || 2567);
const server = new Server({ transport: new WebSocketTransport({ perMessageDeflate: false }) });
server.define("square", Square);
server.listen(port).then(() => console.log(`Colyseus is running at http://127.0.0.1:${port}/`));
