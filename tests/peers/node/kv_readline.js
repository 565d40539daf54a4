// Serveur clé-valeur (Chapitre 2.2) avec Node : une boucle d'événements,
// readline pour découper le flux de chaque client en lignes.
// Juste : une Map pour tout le serveur, la valeur est le reste de la
// ligne (espaces compris), commandes sans casse, \r\n admis, ERR sinon ;
// 'error' écouté sur la socket ET sur l'interface readline (qui réémet
// les erreurs de la socket) : un client brutal ne coûte que lui.
//     node kv_readline.js 8807
const net = require('net');
const readline = require('readline');

const port = Number(process.argv[2] || 8807);
const store = new Map();

function execute(line) {
  const m = /^(\S+)(?: (\S+))?(?: (.*))?$/.exec(line);
  if (!m) return 'ERR commande vide';
  const cmd = m[1].toUpperCase();
  const key = m[2];
  const value = m[3];
  if (cmd === 'SET' && key !== undefined && value) {
    store.set(key, value);
    return 'OK';
  }
  if (cmd === 'GET' && key !== undefined && value === undefined) {
    return store.has(key) ? 'VALUE ' + store.get(key) : 'NOTFOUND';
  }
  if (cmd === 'DEL' && key !== undefined && value === undefined) {
    return store.delete(key) ? 'OK' : 'NOTFOUND';
  }
  if (cmd === 'KEYS' && key === undefined) {
    return ['KEYS', ...[...store.keys()].sort()].join(' ');
  }
  return 'ERR commande inconnue';
}

const server = net.createServer((socket) => {
  socket.on('error', () => {});
  const lines = readline.createInterface({ input: socket, crlfDelay: Infinity });
  lines.on('error', () => {});
  lines.on('line', (line) => socket.write(execute(line.replace(/\r$/, '')) + '\n'));
});

server.listen(port, '127.0.0.1', () => {
  console.log('en écoute sur 127.0.0.1:' + server.address().port);
});
