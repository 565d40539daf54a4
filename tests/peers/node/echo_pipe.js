// Serveur echo TCP avec Node : socket.pipe(socket), la forme la plus
// courte qu'on trouve dans les tutoriels.
// Juste : pipe renvoie tout ce qui arrive, respecte la contre-pression
// (il met la lecture en pause quand l'écriture est pleine) et termine
// l'écriture quand le client a fini ; 'error' est écouté, un client
// brutal ne coûte que lui.
//     node echo_pipe.js 7777
const net = require('net');

const port = Number(process.argv[2] || 7777);

const server = net.createServer((socket) => {
  console.log('client connecté', socket.remoteAddress, socket.remotePort);
  socket.on('error', (err) => console.error('erreur client :', err.message));
  socket.pipe(socket);
});

server.listen(port, '127.0.0.1', () => {
  console.log('en écoute sur 127.0.0.1:' + server.address().port);
});
