// Serveur echo TCP avec Node (module net), comme dans les tutoriels.
//
// ERREUR : aucun socket.on('error', …). Quand un client part brutalement
// (RST) ou s'en va pendant qu'on lui écrit encore, la socket émet
// 'error' (ECONNRESET, EPIPE) ; sans écouteur, Node lève l'exception et le
// processus s'arrête : tous les clients perdent le serveur. Remède :
// socket.on('error', …) qui ne fait que noter l'erreur.
//     node echo_sans_error.js 7777
const net = require('net');

const port = Number(process.argv[2] || 7777);

const serveur = net.createServer((socket) => {
  socket.on('data', (data) => {
    socket.write(data);
  });
});

serveur.listen(port, '127.0.0.1', () => {
  console.log('en écoute sur 127.0.0.1:' + serveur.address().port);
});
