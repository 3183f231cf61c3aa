"""`callcue chat ...`: chats as input (analyze), the reply check (check), live chats (serve, token)."""

from __future__ import annotations

import argparse
import json
import sys

from callcue.commands import add_playbook_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("chat", help="chat assistance: analyse a chat, check a reply, serve live chats",
                       description="The customer's frustration in chats, the chat's cues, and a tone check of "
                                   "the agent's draft reply. Everything stays on this computer.")
    csub = p.add_subparsers(dest="chat_command", metavar="ACTION")

    a = csub.add_parser("analyze", help="the event stream of a chat transcript",
                        description="Read a chat (JSON Lines, CSV or plain 'Agent: ...' / 'Customer: ...' lines "
                                    "with optional [hh:mm:ss]) and print its timeline and summary, or with "
                                    "--json its events as JSON Lines (docs/events.md), as `callcue analyze` does "
                                    "for a call.")
    a.add_argument("file", help="the chat: .jsonl, .csv or a plain text transcript")
    a.add_argument("--json", action="store_true", help="print the event stream as JSON Lines (EVENTS.md)")
    a.add_argument("--timeline", action="store_true", help=argparse.SUPPRESS)  # the default now; kept for scripts
    add_playbook_args(a)
    a.set_defaults(run=run_analyze)

    c = csub.add_parser("check", help="check the tone of a draft reply (nothing is sent)",
                        description="Flag a draft that is cold or overly formal, curt, uses jargon, does not "
                                    "acknowledge a frustrated customer (needs --context), has sentences too long "
                                    "for a phone, shouts, or blames the customer; suggest warmer wording from "
                                    "the playbook. It only reads the draft: nothing is sent anywhere.")
    c.add_argument("draft", help="the draft reply (use - to read it from standard input)")
    c.add_argument("--context", metavar="CHAT_FILE", help="the chat so far, to know how the customer feels")
    c.add_argument("--json", action="store_true", help="print the result as JSON")
    add_playbook_args(c)
    c.set_defaults(run=run_check)

    s = csub.add_parser("serve", help="the local endpoint for live chats (127.0.0.1 only)",
                        description="Listen on 127.0.0.1 for POST /v1/chats/{id}/messages (docs/chat-api.md) "
                                    "and print each chat's events as JSON Lines.")
    s.add_argument("--port", type=int, help="port (default: the playbook's chat.port, 8765)")
    s.add_argument("--host", default="127.0.0.1", help="loopback address to bind: 127.0.0.1 or ::1")
    add_playbook_args(s)
    s.set_defaults(run=run_serve)

    t = csub.add_parser("token", help="print the endpoint's token (created on first use)",
                        description="Print the token that chat tools send to the endpoint (Authorization: "
                                    "Bearer TOKEN, docs/chat-api.md); it is made on first use and kept in "
                                    "the user config folder, readable by this user only.")
    t.add_argument("--path", action="store_true", help="print where the token is kept instead")
    t.set_defaults(run=run_token)

    def usage(args: argparse.Namespace) -> int:
        p.print_help()
        return 0

    p.set_defaults(run=usage)


def run_analyze(args: argparse.Namespace) -> int:
    from callcue.chat.engine import analyze_chat_file

    events = analyze_chat_file(args.file, args.playbook, args.profile)
    if args.json:
        sys.stdout.write("".join(e.to_json() + "\n" for e in events))
    else:
        from callcue.report.timeline import render_timeline

        sys.stdout.write(render_timeline(events))
    return 0


def run_check(args: argparse.Namespace) -> int:
    from callcue.chat.engine import ChatSession
    from callcue.chat.readers import read_chat
    from callcue.chat.replycheck import check_reply
    from callcue.engine.playbook import load_playbook
    from callcue.errors import CallcueError

    draft = sys.stdin.read() if args.draft == "-" else args.draft
    if not draft.strip():
        raise CallcueError("the draft is empty; give the reply text in quotes, or - to read it from standard input")
    pb = load_playbook(args.playbook, args.profile)
    if args.context:
        session = ChatSession(playbook=pb, transcript="file")
        session.add_messages(read_chat(args.context))
        result = session.check_reply(draft)
    else:
        result = check_reply(draft, pb)
    if args.json:
        sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n")
        return 0
    out = []
    if result.frustration is not None:
        out.append(f"Customer's frustration so far: {result.frustration:.2f}")
    if result.ok:
        out.append("No flags: the draft reads fine.")
    for f in result.flags:
        found = f" ({', '.join(_short(x) for x in f.found)})" if f.found else ""
        out.append(f"- {f.id}: {f.message}{found}")
        if f.suggestion:
            out.append(f"    try: {f.suggestion}")
    out.append("(Nothing was sent.)")
    sys.stdout.write("\n".join(out) + "\n")
    return 0


def _short(s: str, n: int = 60) -> str:
    s = " ".join(s.split())
    return f'"{s}"' if len(s) <= n else f'"{s[: n - 1]}…"'


def run_serve(args: argparse.Namespace) -> int:
    import threading

    from callcue.chat.server import ChatServer, token_path
    from callcue.engine.playbook import load_playbook

    pb = load_playbook(args.playbook, args.profile)
    lock = threading.Lock()

    def show(chat_id: str, events: list) -> None:
        with lock:
            for e in events:
                sys.stdout.write(json.dumps({"chat": chat_id, **e.to_dict()}, ensure_ascii=False) + "\n")
            sys.stdout.flush()

    server = ChatServer(pb, host=args.host, port=args.port, on_events=show)
    print(f"callcue: chat endpoint on {server.url}/v1/chats/{{id}}/messages; token in {token_path()} "
          "(Ctrl-C stops)", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


def run_token(args: argparse.Namespace) -> int:
    from callcue.chat.server import load_or_create_token, token_path

    if args.path:
        print(token_path())
    else:
        print(load_or_create_token())
    return 0
