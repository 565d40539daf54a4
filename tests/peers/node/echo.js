// Serveur echo TCP avec Node (module net) : une boucle d'événements, un
// seul thread JavaScript, une fonction rappelée pour chaque client.
// Juste : 'data' renvoie ce qui arrive, 'error' est écouté (sans lui, un
// client qui part brutalement lève une exception qui arrête tout), la
// contre-pression est respectée (pause tant que write() dit que le tampon
// est plein, reprise sur 'drain').
//     node echo.js 7777
const net = require('net');

const port = Number(process.argv[2] || 7777);

const serveur = net.createServer((socket) => {
  socket.on('data', (data) => {
    if (!socket.write(data)) {
      socket.pause();
    }
  });
  socket.on('drain', () => socket.resume());
  socket.on('error', (err) => {
    console.error('client perdu :', err.code);
  });
});

serveur.listen(port, '127.0.0.1', () => {
  console.log('en écoute sur 127.0.0.1:' + serveur.address().port);
});
