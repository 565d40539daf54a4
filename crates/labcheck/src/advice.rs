//! Advice in the student's language. The course is in Python, but a class
//! writes C, Rust, Java, Go or JavaScript too: where the call differs, the
//! advice names it in each. When the server runs on this machine its
//! executable tells the language, and only that one is named.

/// The language a server is written in, when it can be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Python,
    C,
    Rust,
    Java,
    Go,
    Node,
    /// A remote server, or a program we could not read: every language
    /// where the call differs is named.
    Unknown,
}

impl Lang {
    /// From a local process's executable and command line (and, for a
    /// compiled program, a look at the executable's bytes: Rust and Go
    /// leave their runtime's names in it).
    pub fn of_process(exe: &str, cmdline: &str) -> Lang {
        let base = exe.rsplit('/').next().unwrap_or(exe);
        let first = cmdline.split(' ').next().unwrap_or("");
        let first = first.rsplit('/').next().unwrap_or(first);
        for name in [base, first] {
            if name.starts_with("python") || name.starts_with("pypy") {
                return Lang::Python;
            }
            if name == "java" || name.starts_with("java") {
                return Lang::Java;
            }
            if name == "node" || name == "nodejs" || name == "bun" || name == "deno" {
                return Lang::Node;
            }
        }
        match std::fs::File::open(exe) {
            Ok(file) => Lang::of_binary(file),
            Err(_) => Lang::Unknown,
        }
    }

    /// A compiled program: Rust's and Go's runtimes leave their names in
    /// the executable; anything else compiled is taken for C (or C++).
    fn of_binary(file: std::fs::File) -> Lang {
        use std::io::Read;
        // A debug build may be a few dozen MiB: read at most 64 MiB.
        let mut bytes = Vec::new();
        if file.take(64 << 20).read_to_end(&mut bytes).is_err() {
            return Lang::Unknown;
        }
        let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
        if has(b"rust_begin_unwind") || has(b"/rustc/") {
            Lang::Rust
        } else if has(b"runtime.gopanic") || has(b"Go build ID") {
            Lang::Go
        } else if bytes.starts_with(b"\x7fELF") {
            Lang::C
        } else {
            Lang::Unknown
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Lang::Python => "Python",
            Lang::C => "C",
            Lang::Rust => "Rust",
            Lang::Java => "Java",
            Lang::Go => "Go",
            Lang::Node => "JavaScript (Node)",
            Lang::Unknown => "inconnu",
        }
    }
}

/// The few calls whose name differs from one language to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// Send every byte, not only what one `send` took.
    SendAll,
    /// `recv` returns nothing when the client has left.
    EndOfConnection,
    /// A client's error (reset) must end that client only.
    CatchReset,
    /// Writing to a client that left kills the process (SIGPIPE).
    SigPipe,
    /// Turning a line into an integer.
    ParseInt,
    /// Serving one client after another: a loop around `accept`.
    AcceptLoop,
}

/// The advice for `topic`, in `lang` (or in each language where it differs).
pub fn say(lang: Lang, topic: Topic) -> String {
    let all = |python: &str, c: &str, rust: &str, others: &str| -> String {
        let mut text = format!("en Python {python} ; en C {c} ; en Rust {rust}");
        if !others.is_empty() {
            text.push_str(&format!(" ; {others}"));
        }
        text
    };
    let (python, c, rust, java, go, node) = match topic {
        Topic::SendAll => (
            "sendall(data), pas send(data)",
            "une boucle autour de send jusqu'à ce que tout soit parti (send renvoie combien il a envoyé)",
            "write_all, pas write",
            "Java : OutputStream.write envoie tout",
            "Go : conn.Write envoie tout",
            "Node : socket.write, et attendre 'drain' quand il renvoie false",
        ),
        Topic::EndOfConnection => (
            "recv renvoie b'' quand le client est parti : if not data: break",
            "recv renvoie 0 quand le client est parti : if (n <= 0) break;",
            "read renvoie Ok(0) quand le client est parti : Ok(0) => break",
            "Java : read renvoie -1",
            "Go : Read renvoie io.EOF",
            "Node : l'événement 'end'",
        ),
        Topic::CatchReset => (
            "attrapez ConnectionResetError (try/except autour de recv et sendall) pour fermer ce client seulement",
            "traitez le -1 de recv et de send (errno ECONNRESET) en fermant ce client seulement",
            "traitez l'Err de read et de write_all en fermant ce client seulement (pas de unwrap)",
            "Java : attrapez IOException par client",
            "Go : traitez l'erreur de Read/Write par client",
            "Node : écoutez l'événement 'error' de chaque socket",
        ),
        Topic::SigPipe => (
            "BrokenPipeError (et ConnectionResetError) à attraper autour de sendall",
            "signal(SIGPIPE, SIG_IGN) au début du programme, ou send(…, MSG_NOSIGNAL), puis traiter le -1 (EPIPE)",
            "traitez l'Err(BrokenPipe) de write_all au lieu de unwrap",
            "Java : attrapez l'IOException de write",
            "Go : traitez l'erreur de Write",
            "Node : écoutez l'événement 'error' de la socket",
        ),
        Topic::ParseInt => (
            "int(ligne), dans un try/except ValueError",
            "strtol(ligne, &fin, 10), puis vérifier errno et que fin est au bout de la ligne",
            "ligne.trim().parse::<i128>(), et répondre E sur Err",
            "Java : new BigInteger(ligne.trim())",
            "Go : strconv.ParseInt",
            "Node : BigInt(ligne)",
        ),
        Topic::AcceptLoop => (
            "while True: conn, addr = s.accept(), puis la boucle recv/sendall de ce client, puis conn.close()",
            "for (;;) { int c = accept(s, NULL, NULL); … la boucle recv/send de ce client … close(c); }",
            "for stream in listener.incoming() { … }, sans return ni break après le premier client",
            "Java : while (true) { Socket c = serveur.accept(); … }",
            "Go : for { conn, err := ln.Accept(); … }",
            "Node : net.createServer sert chaque connexion ; ne fermez pas le serveur (server.close) après la première",
        ),
    };
    match lang {
        Lang::Python => format!("en Python : {python}"),
        Lang::C => format!("en C : {c}"),
        Lang::Rust => format!("en Rust : {rust}"),
        Lang::Java => java.to_string(),
        Lang::Go => go.to_string(),
        Lang::Node => node.to_string(),
        Lang::Unknown => all(python, c, rust, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_is_told_by_the_command() {
        assert_eq!(
            Lang::of_process("/usr/bin/python3.12", "python3 serveur.py"),
            Lang::Python
        );
        assert_eq!(
            Lang::of_process("/usr/lib/jvm/bin/java", "java Serveur"),
            Lang::Java
        );
        assert_eq!(Lang::of_process("/usr/bin/node", "node s.js"), Lang::Node);
        assert_eq!(
            Lang::of_process("/nonexistent/serveur", "./serveur"),
            Lang::Unknown
        );
        // This very test is a Rust program.
        let me = std::env::current_exe().unwrap();
        assert_eq!(Lang::of_process(me.to_str().unwrap(), "x"), Lang::Rust);
    }

    #[test]
    fn advice_names_the_call_of_the_language() {
        assert!(say(Lang::C, Topic::SigPipe).contains("SIG_IGN"));
        assert!(!say(Lang::C, Topic::SigPipe).contains("Python"));
        let all = say(Lang::Unknown, Topic::SendAll);
        assert!(all.contains("sendall") && all.contains("write_all") && all.contains("boucle"));
        assert!(say(Lang::Rust, Topic::EndOfConnection).contains("Ok(0)"));
        assert!(say(Lang::C, Topic::AcceptLoop).contains("accept("));
    }
}
