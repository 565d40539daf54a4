// Serveur clé-valeur (Chapitre 2.2) avec Node : une boucle d'événements,
// readline pour découper le flux de chaque client en lignes.
//
// ERREUR : 'error' est écouté sur la socket, mais l'interface readline
// posée dessus réémet l'erreur de la socket (ECONNRESET quand un client
// part brutalement) et personne ne l'écoute sur elle : Node lève
// l'exception et tout le serveur s'arrête. Remède :
// lines.on('error', ...) aussi (tout émetteur sans écouteur 'error' est
// fatal). Le reste est juste : une Map pour tout le serveur, la valeur est
// le reste de la ligne, commandes sans casse, \r\n admis, ERR sinon.
//     node kv_readline_sans_error.js 8807
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
  lines.on('line', (line) => socket.write(execute(line.replace(/\r$/, '')) + '\n'));
});

server.listen(port, '127.0.0.1', () => {
  console.log('en écoute sur 127.0.0.1:' + server.address().port);
});
