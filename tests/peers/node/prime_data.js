// Serveur de nombres premiers (Chapitre 2.2, 1.1) avec Node.
//
// ERREUR : chaque événement 'data' est pris pour UN message. TCP est un
// flux : « 4\n5\n » peut arriver en un seul 'data' (une seule réponse,
// et E car « 4\n5 » n'est pas un nombre), et « 17 » puis « \n » en deux.
// Remède : garder un tampon, découper sur '\n', traiter chaque ligne
// complète (ou readline.createInterface({ input: socket })).
//     node prime_data.js 8809
const net = require('net');

const port = Number(process.argv[2] || 8809);

function isPrime(n) {
  if (n < 2n) return false;
  for (let d = 2n; d * d <= n; d++) {
    if (n % d === 0n) return false;
  }
  return true;
}

function answer(text) {
  const s = text.trim();
  if (!/^[+-]?\d+$/.test(s)) return 'E\n';
  return isPrime(BigInt(s)) ? 'T\n' : 'F\n';
}

const server = net.createServer((socket) => {
  socket.on('data', (data) => {
    socket.write(answer(data.toString()));
  });
  socket.on('error', () => {});
});

server.listen(port, '127.0.0.1', () => {
  console.log('en écoute sur 127.0.0.1:' + server.address().port);
});
