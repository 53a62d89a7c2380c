// Reference peer: the seed's gateway contract on Node socket.io (the stack the seed was written for).
// Used only to measure the project side by side; never shipped.
// Copy of ../shared/bench/server.js with one addition: BENCH_RECOVERY=1 turns socket.io's
// connectionStateRecovery on (bench/compare-fanout-recovery.sh runs both servers with it).
const http = require('http');
const { Server } = require('socket.io');
const jwt = require('jsonwebtoken');
const SECRET = process.env.JWT_SECRET || 'bench-secret';
const port = +(process.env.PORT || 3101);
const tickets = new Map(); // ticketId -> empresaId
for (let i = 0; i < 1000; i++) tickets.set('t' + i, 'e1');
const httpServer = http.createServer((req, res) => {
  if (req.url.startsWith('/bench/emit')) {
    const body = decodeURIComponent(req.url.split('?q=')[1]);
    {
      const { room, event, count, payload } = JSON.parse(body);
      for (let i = 0; i < count; i++) nsp.to(room).emit(event, { ...payload, seq: i, t: performance.timeOrigin + performance.now() });
      res.end('{"ok":true}');
    }
    return;
  }
  res.statusCode = 404; res.end();
});
const recovery = process.env.BENCH_RECOVERY === '1'
  ? { connectionStateRecovery: { maxDisconnectionDuration: 120000 } }
  : {};
const io = new Server(httpServer, { cors: { origin: '*' }, ...recovery });
const nsp = io.of('/atendimento');
nsp.use((socket, next) => {
  let token = socket.handshake.auth && socket.handshake.auth.token;
  const h = socket.handshake.headers.authorization;
  if (!token && h && h.startsWith('Bearer ')) token = h.slice(7);
  try { socket.data.user = jwt.verify(token, SECRET, { algorithms: ['HS256'] }); next(); }
  catch (e) { next(new Error('Unauthorized')); }
});
nsp.on('connection', (socket) => {
  const u = socket.data.user;
  socket.join(`user:${u.sub}`);
  socket.join(`empresa:${u.empresaId}`);
  if (u.role === 'atendente') socket.join(`empresa:${u.empresaId}:atendentes`);
  socket.on('ticket:entrar', (d, ack) => {
    const ok = d && tickets.get(d.ticketId) === u.empresaId;
    if (ok) socket.join(`ticket:${d.ticketId}`);
    if (typeof ack === 'function') ack(ok ? { success: true, ticketId: d.ticketId } : { success: false, error: 'Ticket não encontrado' });
  });
  socket.on('ticket:sair', (d) => { if (d) socket.leave(`ticket:${d.ticketId}`); });
  socket.on('mensagem:digitando', (d) => {
    if (d && socket.rooms.has(`ticket:${d.ticketId}`))
      socket.to(`ticket:${d.ticketId}`).emit('mensagem:digitando', { ticketId: d.ticketId, usuarioId: u.sub, usuarioNome: u.nome });
  });
});
httpServer.listen(port, '127.0.0.1', () => console.log('peer listening', port));
