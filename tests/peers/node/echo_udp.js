// Serveur echo UDP avec Node (module dgram) : un seul thread, un rappel
// par datagramme (TP5b 1.4).
// Juste : chaque message revient entier, depuis la socket qui l'a reçu,
// vers l'adresse et le port de l'envoyeur ; une erreur est écrite, pas
// fatale.
//     node echo_udp.js 7777
const dgram = require('dgram');

const port = Number(process.argv[2] || 7777);
const socket = dgram.createSocket('udp4');

socket.on('message', (msg, rinfo) => {
  socket.send(msg, rinfo.port, rinfo.address);
});
socket.on('error', (err) => console.error('erreur :', err.message));

socket.bind(port, '127.0.0.1', () => {
  console.log('en attente sur 127.0.0.1:' + socket.address().port);
});
