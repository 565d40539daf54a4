//! `labcheck` — checks a lab server written by anyone, in any language,
//! from outside, as a client would.
//!
//! ```text
//! labcheck echo localhost:7777          # any echo server of TP5b
//! labcheck echo-udp [::1]:7777
//! labcheck prime 127.0.0.1:8809         # prime-server --forever
//! labcheck prime-udp 127.0.0.1:8808
//! labcheck kv 127.0.0.1:8807
//! labcheck pesto 127.0.0.1:1234
//! labcheck --junit rapport.xml echo localhost:7777
//! labcheck --class classe.txt --junit classe.xml
//! ```
//!
//! This file only reads the arguments; the checks are in the library
//! (`lib.rs` and its modules).

use std::path::PathBuf;

use labcheck::{Kind, Options, junit};
use netlabs::{Args, Why, fail};

const USAGE: &str = "\
labcheck — vérifie un serveur de TP (le vôtre, en Python, C, Rust ou autre)

usage : labcheck [--strict] [--junit FICHIER] SORTE HÔTE:PORT
        labcheck --class FICHIER [--strict] [--junit FICHIER]
  SORTE            echo       serveur echo TCP (TP5b 1.2, 2.1, 2.2)
                   echo-udp   serveur echo UDP (TP5b 1.4)
                   prime      nombres premiers par TCP (Chapitre 2.2, 1.1) :
                              lancez prime-server --forever, sans quoi il
                              s'arrête après la première connexion
                   prime-udp  nombres premiers par UDP (Chapitre 2.2, 1.2)
                   kv         clé-valeur (Chapitre 2.2, le serveur annoncé)
                   pesto      serveur de commandes de Pesto (Twisted)
  HÔTE:PORT        localhost:7777 (toutes ses adresses sont essayées),
                   [::1]:7777 ou 127.0.0.1:7777
  --junit FICHIER  écrit aussi les résultats en JUnit XML (pour une CI) ;
                   une remarque y est un cas « skipped » (sauf --strict)
  --strict         une remarque compte comme un échec
  --class FICHIER  vérifie toute une classe : une ligne par étudiant,
                   NOM SORTE HÔTE:PORT (# pour un commentaire) ; les
                   serveurs sont vérifiés en parallèle, puis un tableau
  -h, --help       cette aide

Chaque vérification affiche ok ou ÉCHEC ; un échec dit ce qui a été envoyé,
ce qui est revenu et ce que cela veut dire, avec la section du cours et
l'appel à utiliser dans le langage du serveur (Python, C, Rust…).
Après chaque vérification, labcheck s'assure que le serveur sert encore :
un serveur mort ou bloqué l'est à cause de la vérification qui précède.
Un serveur qui parle le premier, ou répond en retard, est reconnu et dit.
Les vérifications au-delà du cours (réponse exacte et immédiate près de
2**64, 1_000 de Python) s'affichent « remarque » et ne comptent pas, sauf
avec --strict.
Les lignes info disent quel modèle (bloquant, select, threads, fork) le
serveur suit ; s'il tourne sur cette machine, son processus le confirme.
Ce n'est jamais un échec. Un serveur local qui consomme du CPU au repos
(boucle active) échoue.
Dernière ligne : N passed, N failed. Sortie 0 si tout passe, 1 sinon.

Essayez : echo-server --port 7777 & labcheck echo localhost:7777";

fn main() {
    let mut args = Args::parse(USAGE);
    let junit_path: Option<PathBuf> = args.value("--junit");
    let class: Option<PathBuf> = args.value("--class");
    let strict = args.flag("--strict");
    let rest = args.rest();
    // `rest` took the arguments; a fresh Args prints the same usage.
    let usage = Args::from_vec(USAGE, Vec::new());
    // A --junit path that cannot take a report is said at once, before
    // any check runs.
    if let Some(path) = &junit_path
        && let Err(why) = junit::check_path(path)
    {
        fail!("{why}");
    }
    if let Some(class) = class {
        if !rest.is_empty() {
            usage.usage_error("--class FICHIER se suffit : pas de SORTE ni de HÔTE:PORT avec");
        }
        let code = labcheck::class::run(&class, junit_path.as_deref(), strict);
        std::process::exit(code);
    }
    let [kind, place] = rest.as_slice() else {
        usage.usage_error(
            "il faut une SORTE et un HÔTE:PORT, par exemple : labcheck echo localhost:7777",
        );
    };
    let Some(kind) = Kind::parse(kind) else {
        usage.usage_error(&format!(
            "sorte inconnue « {kind} » : echo, echo-udp, prime, prime-udp, kv ou pesto"
        ));
    };
    let Some((host, port)) = labcheck::split_host_port(place) else {
        usage.usage_error(&format!(
            "« {place} » n'est pas de la forme HÔTE:PORT (localhost:7777, [::1]:7777, 127.0.0.1:7777)"
        ));
    };
    let addrs = labcheck::addresses(&host, port).unwrap_or_else(|why| fail!("{why}"));
    let options = Options { strict, loud: true };
    let report = match labcheck::check_one(kind, place, &addrs, options) {
        Ok(report) => report,
        Err(why) => {
            // Nothing listening is one line, exit 1 (and a report that
            // says so, for a teacher's CI).
            if let Some(path) = &junit_path {
                let report = labcheck::unreachable_report(kind, place, &why, options);
                let _ = junit::write_whole(
                    path,
                    &junit::xml(&[(&format!("labcheck.{}", kind.name()), &report)]),
                );
            }
            fail!("{why}");
        }
    };
    if let Some(path) = &junit_path
        && let Err(e) = junit::write_whole(
            path,
            &junit::xml(&[(&format!("labcheck.{}", kind.name()), &report)]),
        )
    {
        fail!(
            "impossible d'écrire le rapport {} ({})",
            path.display(),
            Why(&e)
        );
    }
    std::process::exit(if report.failed() == 0 { 0 } else { 1 });
}
