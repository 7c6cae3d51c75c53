/* SPDX-License-Identifier: MIT */
/*
 * help-gen.c — mdns-doctor(1) in roff and a bash completion script, both
 * generated from the command table (help-gen.h).
 *
 * Every command declares its options (cli/args.h); both outputs are read
 * from those declarations, so they cannot drift from the parser.
 *
 * Output is deterministic (no date), so the installed files depend on
 * the binary only.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cli/help-gen.h"

/* One option (or subcommand word) as both generators need it. */
struct hopt {
	char shorts[4][4]; /* "-4", "-d" */
	size_t nshort;
	char lng[48];	 /* long name without "--", "" when none */
	char arg[64];	 /* placeholder, "" for a flag */
	char help[1024]; /* one paragraph */
	int word;	 /* a subcommand word ("show"), not an option */
	int optional;	 /* ARGS_OPTIONAL: "--name[=ARG]", never a word */
};

struct hcmd {
	const struct cmd_entry *c;
	char usage[1024];   /* after "mdns-doctor " */
	char operands[128]; /* what the operands are ("LIST...") */
	char formats[128];  /* "html,md,json" or "" */
	struct hopt *o;
	size_t n, cap;
};

static struct hopt *
hopt_add(struct hcmd *h)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 16;
		h->o = xreallocarray(h->o, h->cap, sizeof *h->o);
	}
	memset(&h->o[h->n], 0, sizeof h->o[h->n]);
	return &h->o[h->n++];
}

/* Append text to a help paragraph, one space between pieces. */
static void
help_add(char *help, size_t len, const char *s, size_t n)
{
	size_t have = strlen(help);

	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if (n == 0)
		return;
	snprintf(help + have, len - have, "%s%.*s", have ? " " : "", (int)n, s);
}

static void
from_declared(struct hcmd *h, const struct args_opt *o)
{
	struct hopt *x;
	const char *p, *nl;

	for (; o != NULL && o->key != 0; o++) {
		x = hopt_add(h);
		if (o->key < ARGS_LONG && isalnum(o->key))
			snprintf(x->shorts[x->nshort++], 4, "-%c", o->key);
		if (o->name != NULL)
			snprintf(x->lng, sizeof x->lng, "%s", o->name);
		if (o->arg != NULL)
			snprintf(x->arg, sizeof x->arg, "%s", o->arg);
		x->optional = (o->flags & ARGS_OPTIONAL) != 0;
		for (p = o->help; p != NULL && *p != '\0';
		     p = nl ? nl + 1 : "") {
			nl = strchr(p, '\n');
			help_add(x->help, sizeof x->help, p,
			    nl ? (size_t)(nl - p) : strlen(p));
		}
	}
}

/*
 * Subcommand words from the declared operands: the lower-case words of
 * "[show|check]" or "[list | good | diff [RUN [RUN]] | resolver ADDR]"
 * (operands proper are written in capitals).
 */
static void
from_operands(struct hcmd *h, const char *ops)
{
	struct hopt *x;
	const char *p = ops;
	size_t n;

	while (p != NULL && *p != '\0') {
		n = 0;
		while (islower((unsigned char)p[n]) || p[n] == '-')
			n++;
		if (n > 0 && !isalnum((unsigned char)p[n]) &&
		    (p == ops || !isalnum((unsigned char)p[-1]))) {
			x = hopt_add(h);
			x->word = 1;
			snprintf(x->lng, sizeof x->lng, "%.*s", (int)n, p);
			p += n;
		} else
			p += n > 0 ? n : 1;
	}
}

/* The usage line that `help CMD` prints, joined into one line. */
static void
declared_usage(struct hcmd *h)
{
	char *buf = NULL, *p, *q;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	args_usage(f, h->c);
	fclose(f);
	p = buf;
	if (strncmp(p, "usage: mdns-doctor ", 19) == 0)
		p += 19;
	/* Collapse the wrapping into single blanks. */
	for (q = p; *q != '\0'; q++)
		if (isspace((unsigned char)*q))
			*q = ' ';
	for (q = p; *q != '\0';) {
		if (q[0] == ' ' && (q[1] == ' ' || q[1] == '\0'))
			memmove(q, q + 1, strlen(q));
		else
			q++;
	}
	snprintf(h->usage, sizeof h->usage, "%s", p);
	free(buf);
}

static void
hcmd_build(struct hcmd *h, const struct cmd_entry *c)
{
	memset(h, 0, sizeof *h);
	h->c = c;
	declared_usage(h);
	from_operands(h, c->args.operands);
	from_declared(h, c->args.opts);
	snprintf(h->operands, sizeof h->operands, "%s",
	    c->args.operands ? c->args.operands : "");
	snprintf(h->formats, sizeof h->formats, "%s",
	    c->args.formats ? c->args.formats : "");
}

static void
hcmd_free(struct hcmd *h)
{
	free(h->o);
}

/* ---- roff ---------------------------------------------------------------- */

/*
 * Text for roff: backslashes escaped, a leading '.' or '\'' defused,
 * dashes as \- when minus (option names), non-ASCII as \[uXXXX] so the
 * page needs no input encoding.
 */
static void
roff(FILE *f, const char *s, int minus)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long cp;
	int n, i;

	if (*p == '.' || *p == '\'')
		fputs("\\&", f);
	while (*p != '\0') {
		if (*p == '\\') {
			fputs("\\e", f);
		} else if (*p == '-' && minus) {
			fputs("\\-", f);
		} else if (*p < 0x80) {
			fputc(*p, f);
		} else {
			n = *p >= 0xf0 ? 3 :
			    *p >= 0xe0 ? 2 :
			    *p >= 0xc0 ? 1 :
					 0;
			cp = *p & (0x3f >> n);
			for (i = 0; i < n && (p[1] & 0xc0) == 0x80; i++)
				cp = (cp << 6) | (*++p & 0x3f);
			fprintf(f, "\\[u%04lX]", cp);
		}
		p++;
	}
}

static void
man_opt(FILE *f, const struct hopt *o)
{
	size_t i;

	fputs(".TP\n", f);
	if (o->word) {
		fputs("\\fB", f);
		roff(f, o->lng, 1);
		fputs("\\fR\n", f);
	} else {
		for (i = 0; i < o->nshort; i++) {
			fputs(i ? ", \\fB" : "\\fB", f);
			roff(f, o->shorts[i], 1);
			fputs("\\fR", f);
		}
		if (o->lng[0] != '\0') {
			fputs(o->nshort ? ", \\fB\\-\\-" : "\\fB\\-\\-", f);
			roff(f, o->lng, 1);
			fputs("\\fR", f);
		}
		if (o->arg[0] != '\0') {
			fputs(o->optional ? "[=\\fI" : " \\fI", f);
			roff(f, o->arg, 0);
			fputs(o->optional ? "\\fR]" : "\\fR", f);
		}
		fputs("\n", f);
	}
	roff(f, o->help[0] ? o->help : "(no description)", 0);
	fputs("\n", f);
}

/* Free text (notes) as paragraphs: blank lines separate them. */
static void
man_notes(FILE *f, const char *s)
{
	char para[2048] = "";
	const char *line, *end;

	for (line = s; line != NULL && *line != '\0';
	     line = *end ? end + 1 : end) {
		end = strchr(line, '\n');
		if (end == NULL)
			end = line + strlen(line);
		if (strspn(line, " ") >= (size_t)(end - line)) {
			if (para[0] != '\0') {
				fputs(".PP\n", f);
				roff(f, para, 0);
				fputs("\n", f);
			}
			para[0] = '\0';
			continue;
		}
		help_add(para, sizeof para, line, (size_t)(end - line));
	}
	if (para[0] != '\0') {
		fputs(".PP\n", f);
		roff(f, para, 0);
		fputs("\n", f);
	}
}

static void
man_cmd(FILE *f, const struct hcmd *h)
{
	const struct cmd_entry *c = h->c;
	char list[128];
	size_t i;

	fputs(".SS ", f);
	roff(f, c->name, 1);
	fputs("\n.PP\n\\fBmdns\\-doctor\\fR ", f);
	roff(f, h->usage, 0);
	fputs("\n.PP\n", f);
	roff(f, c->summary, 0);
	fputs(".\n", f);
	if (c->alias != NULL) {
		fputs("Alias: \\fB", f);
		roff(f, c->alias, 1);
		fputs("\\fR.\n", f);
	}
	for (i = 0; i < h->n; i++)
		man_opt(f, &h->o[i]);
	if (h->formats[0] != '\0') {
		fputs(".TP\n\\fB\\-\\-format\\fR \\fIFMT\\fR\nOutput format: ",
		    f);
		roff(f, args_list(h->formats, ',', list, sizeof list), 0);
		fputs(" (the first is the default).\n", f);
	}
	if (c->run != NULL && c->args.notes != NULL)
		man_notes(f, c->args.notes);
}

int
cli_help_man(FILE *f, const struct cmd_entry *const *table,
    const struct args_opt *globals)
{
	const struct cmd_entry *const *c;
	struct hcmd h;
	size_t i;

	fprintf(f,
	    ".\\\" mdns-doctor(1), generated by 'mdns-doctor help "
	    "--man' from the command table: do not edit.\n");
	fputs(".TH MDNS\\-DOCTOR 1 \"\" \"mdns\\-doctor ", f);
	roff(f, cli_version(), 1);
	fputs("\" \"User Commands\"\n"
	      ".SH NAME\nmdns\\-doctor \\- diagnose MasterDnsVPN DNS tunnels "
	      "and run them\n"
	      ".SH SYNOPSIS\n\\fBmdns\\-doctor\\fR [\\fIglobal options\\fR] "
	      "\\fICOMMAND\\fR [\\fIoptions\\fR] [\\fIarguments\\fR]\n.br\n"
	      "\\fBmdns\\-doctor help\\fR [\\fICOMMAND\\fR]\n"
	      ".SH DESCRIPTION\n"
	      "\\fBmdns\\-doctor\\fR diagnoses DNS tunnels of the MasterDnsVPN "
	      "family. It scans resolver lists for the few resolvers that can "
	      "carry a tunnel (with exact upload and download MTU and a "
	      "verified handshake), keeps results in an SQLite history, checks "
	      "where the tunnel's traffic leaves, gives monitoring exit codes "
	      "and writes reports for support. It also contains a tunnel "
	      "client (\\fBconnect\\fR) and server (\\fBserve\\fR) that speak "
	      "the MasterDnsVPN wire protocol, with live status over a Unix "
	      "socket.\n"
	      ".PP\nGlobal options may be given before or after the command "
	      "word. A command may be abbreviated to a unique prefix. Data "
	      "goes to standard output, diagnostics to standard error.\n"
	      ".SH GLOBAL OPTIONS\n",
	    f);
	memset(&h, 0, sizeof h);
	from_declared(&h, globals);
	for (i = 0; i < h.n; i++)
		man_opt(f, &h.o[i]);
	hcmd_free(&h);
	fputs(".SH COMMANDS\n", f);
	for (c = table; *c != NULL; c++) {
		hcmd_build(&h, *c);
		man_cmd(f, &h);
		hcmd_free(&h);
	}
	fputs(".SS help\n.PP\n\\fBmdns\\-doctor help\\fR [\\fICOMMAND\\fR]\n"
	      ".PP\nThe command list, or one command's options (the same as "
	      "\\fICOMMAND\\fR \\fB\\-h\\fR).\n"
	      ".SH EXIT STATUS\nAs monitoring plugins: \\fB0\\fR OK, \\fB1\\fR "
	      "WARNING, \\fB2\\fR CRITICAL, \\fB3\\fR UNKNOWN (also usage, "
	      "configuration and internal errors, reported in one line on "
	      "standard error).\n"
	      ".SH ENVIRONMENT\n"
	      ".TP\n\\fBNO_COLOR\\fR\nWhen set and not empty, no colour.\n"
	      ".TP\n\\fBXDG_CONFIG_HOME\\fR, \\fBXDG_STATE_HOME\\fR, "
	      "\\fBXDG_RUNTIME_DIR\\fR\nWhere the configuration, the history "
	      "and the control socket live (see \\fBFILES\\fR).\n"
	      ".TP\n\\fBHOME\\fR\nThe fallback for the directories above.\n"
	      ".SH FILES\n"
	      ".TP\n\\fI$XDG_STATE_HOME/mdns\\-doctor/history.db\\fR\nThe "
	      "history (SQLite): runs, resolver results, checks, engine "
	      "snapshots. Without XDG_STATE_HOME "
	      "\\fI~/.local/state/mdns\\-doctor\\fR; for root "
	      "\\fI/var/lib/mdns\\-doctor\\fR. \\fB\\-\\-db\\fR overrides it.\n"
	      ".TP\n\\fI$XDG_RUNTIME_DIR/mdns\\-doctor/engine.sock\\fR, "
	      "\\fIserver.sock\\fR\nThe control sockets of \\fBconnect\\fR and "
	      "\\fBserve\\fR (for root in \\fI/run/mdns\\-doctor\\fR, else "
	      "\\fI/tmp/mdns\\-doctor\\-UID\\fR without XDG_RUNTIME_DIR).\n"
	      ".TP\n\\fI$XDG_CONFIG_HOME/mdns\\-doctor/client_config.toml\\fR"
	      "\nThe default client configuration (for root "
	      "\\fI/etc/mdns\\-doctor\\fR).\n"
	      ".TP\n\\fI/etc/mdns\\-doctor/NAME/client_config.toml\\fR, "
	      "\\fIclient_resolvers.txt\\fR\nThe configuration the systemd "
	      "unit \\fBmdns\\-doctor\\-connect@NAME.service\\fR runs.\n"
	      ".TP\n\\fI/etc/default/mdns\\-doctor\\-check\\fR\n"
	      "\\fBMDNS_CHECK_ARGS=\\fR\\fIoptions\\fR for "
	      "\\fBmdns\\-doctor\\-check.service\\fR.\n"
	      ".SH EXAMPLES\n"
	      "Scan a list and keep the survivors for the client:\n.PP\n.nf\n"
	      ".RS\nmdns\\-doctor scan \\-\\-config client_config.toml "
	      "\\-\\-write\\-resolvers client_resolvers.txt list.txt\n.RE\n"
	      ".fi\n.PP\n"
	      "A check from cron every five minutes, for node_exporter's "
	      "textfile collector (one line of \\fIcrontab\\fR(5)):\n"
	      ".PP\n.nf\n.RS\n*/5 * * * * mdns\\-doctor \\-q check "
	      "\\-\\-format prom \\-\\-textfile "
	      "/var/lib/prometheus/node\\-exporter\n.RE\n.fi\n.PP\n"
	      "The same with systemd, and a tunnel client kept running from "
	      "\\fI/etc/mdns\\-doctor/home/\\fR:\n.PP\n.nf\n.RS\n"
	      "systemctl enable \\-\\-now mdns\\-doctor\\-check.timer\n"
	      "systemctl enable \\-\\-now mdns\\-doctor\\-connect@home\n"
	      ".RE\n.fi\n.PP\n"
	      "A report for support, with every address replaced:\n"
	      ".PP\n.nf\n.RS\nmdns\\-doctor report \\-\\-redact all \\-o "
	      "report.html\n.RE\n.fi\n"
	      ".SH SEE ALSO\n\\fBsystemd.timer\\fR(5), \\fBcrontab\\fR(5), "
	      "\\fBsqlite3\\fR(1)\n",
	    f);
	return ferror(f) ? -1 : 0;
}

/* ---- bash completion ------------------------------------------------------ */

/* Whether a placeholder names a file (complete file names for it). */
static const char *
arg_kind(const char *arg)
{
	size_t n = strlen(arg);

	if (strchr(arg, '|') != NULL)
		return "choice";
	if (strcmp(arg, "DIR") == 0)
		return "dir";
	if (strcmp(arg, "F") == 0 || strcmp(arg, "PATH") == 0 ||
	    strcmp(arg, "LIST") == 0 ||
	    (n >= 4 && strcmp(arg + n - 4, "FILE") == 0))
		return "file";
	return "none";
}

/* The words an option can be typed as, blank-separated. */
static void
opt_words(FILE *f, const struct hopt *o)
{
	size_t i;

	for (i = 0; i < o->nshort; i++)
		fprintf(f, " %s", o->shorts[i]);
	if (o->lng[0] != '\0')
		fprintf(f, " --%s", o->lng);
}

/* Shell-safe: the words we print are from our own tables, but check. */
static int
safe_word(const char *s)
{
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) &&
		    strchr("-_.|:,+@/", *s) == NULL)
			return 0;
	return 1;
}

/* case arms "OPTION) kind [values]" for the options that take a value. */
static void
comp_values(FILE *f, const struct hopt *o, size_t n)
{
	const char *k;
	char v[64], *p;
	size_t i, j;

	for (i = 0; i < n; i++) {
		if (o[i].word || o[i].optional || o[i].arg[0] == '\0' ||
		    !safe_word(o[i].arg))
			continue;
		k = arg_kind(o[i].arg);
		fputs("\t\t", f);
		for (j = 0; j < o[i].nshort; j++)
			fprintf(f, "%s%s", j ? "|" : "", o[i].shorts[j]);
		if (o[i].lng[0] != '\0')
			fprintf(f, "%s--%s", o[i].nshort ? "|" : "", o[i].lng);
		fprintf(f, ") _mdns_doctor_value %s", k);
		if (strcmp(k, "choice") == 0) {
			snprintf(v, sizeof v, "%s", o[i].arg);
			for (p = v; *p != '\0'; p++)
				if (*p == '|')
					*p = ' ';
			fprintf(f, " '%s'", v);
		}
		fputs("; return ;;\n", f);
	}
}

int
cli_help_completion(FILE *f, const struct cmd_entry *const *table,
    const struct args_opt *globals)
{
	const struct cmd_entry *const *c;
	struct hcmd g, h;
	char list[128], *p;
	size_t i;
	int first;

	memset(&g, 0, sizeof g);
	from_declared(&g, globals);
	fputs("# bash completion for mdns-doctor, generated by 'mdns-doctor "
	      "help --completion'\n# from the command table: do not edit.\n\n"
	      "_mdns_doctor_value()\n{\n"
	      "\tcase $1 in\n"
	      "\tchoice) COMPREPLY=($(compgen -W \"$2\" -- \"$cur\")) ;;\n"
	      "\tfile) COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n"
	      "\tdir) COMPREPLY=($(compgen -d -- \"$cur\")) ;;\n"
	      "\t*) COMPREPLY=() ;;\n\tesac\n}\n\n"
	      "_mdns_doctor()\n{\n"
	      "\tlocal cur=${COMP_WORDS[COMP_CWORD]} "
	      "prev=${COMP_WORDS[COMP_CWORD-1]}\n"
	      "\tlocal cmd= i w opts= words= formats= files=\n"
	      "\tlocal cmds='",
	    f);
	for (c = table; *c != NULL; c++)
		fprintf(f, "%s%s%s%s", c == table ? "" : " ", (*c)->name,
		    (*c)->alias ? " " : "", (*c)->alias ? (*c)->alias : "");
	fputs(" help'\n\tlocal globals='", f);
	for (i = 0; i < g.n; i++)
		opt_words(f, &g.o[i]);
	fputs(" '\n\n\t# The command word: the first that is not an option "
	      "or a global\n\t# option's value.\n"
	      "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	      "\t\tw=${COMP_WORDS[i]}\n\t\tcase $w in\n\t\t",
	    f);
	for (i = 0, first = 1; i < g.n; i++)
		if (g.o[i].arg[0] != '\0') {
			fprintf(f, "%s--%s", first ? "" : "|", g.o[i].lng);
			first = 0;
		}
	fputs(") ((i++)) ;;\n\t\t-*) ;;\n\t\t*) cmd=$w; break ;;\n\t\tesac\n"
	      "\tdone\n\n\t# A global option's value.\n\tcase $prev in\n",
	    f);
	/* --format's values depend on the command: listed per command. */
	for (i = 0; i < g.n; i++)
		if (strcmp(g.o[i].lng, "format") == 0)
			g.o[i].arg[0] = '\0';
	comp_values(f, g.o, g.n);
	fputs("\t--format)\n\t\tcase $cmd in\n", f);
	for (c = table; *c != NULL; c++) {
		hcmd_build(&h, *c);
		if (h.formats[0] != '\0') {
			snprintf(list, sizeof list, "%s", h.formats);
			for (p = list; *p != '\0'; p++)
				if (*p == ',')
					*p = ' ';
			fprintf(f,
			    "\t\t%s) _mdns_doctor_value choice '%s' ;;\n",
			    (*c)->name, list);
		}
		hcmd_free(&h);
	}
	fputs("\t\t*) COMPREPLY=() ;;\n\t\tesac\n\t\treturn ;;\n\tesac\n\n"
	      "\tif [[ -z $cmd ]]; then\n"
	      "\t\tif [[ $cur == -* ]]; then\n"
	      "\t\t\tCOMPREPLY=($(compgen -W \"$globals\" -- \"$cur\"))\n"
	      "\t\telse\n"
	      "\t\t\tCOMPREPLY=($(compgen -W \"$cmds\" -- \"$cur\"))\n"
	      "\t\tfi\n\t\treturn\n\tfi\n\n"
	      "\tcase $cmd in\n"
	      "\thelp)\n\t\tCOMPREPLY=($(compgen -W \"$cmds\" -- \"$cur\"))\n"
	      "\t\treturn ;;\n",
	    f);
	for (c = table; *c != NULL; c++) {
		hcmd_build(&h, *c);
		fprintf(f, "\t%s%s%s)\n\t\tcase $prev in\n", (*c)->name,
		    (*c)->alias ? "|" : "", (*c)->alias ? (*c)->alias : "");
		comp_values(f, h.o, h.n);
		fputs("\t\tesac\n\t\topts='", f);
		for (i = 0; i < h.n; i++)
			if (!h.o[i].word)
				opt_words(f, &h.o[i]);
		if (h.formats[0] != '\0')
			fputs(" --format", f);
		fputs(" '\n\t\twords='", f);
		for (i = 0; i < h.n; i++)
			if (h.o[i].word && safe_word(h.o[i].lng))
				fprintf(f, " %s", h.o[i].lng);
		fprintf(f, "'\n\t\tfiles=%s ;;\n",
		    strstr(h.operands, "LIST") != NULL ||
			    strstr(h.operands, "FILE") != NULL ?
			"1" :
			"");
		hcmd_free(&h);
	}
	fputs("\tesac\n\n"
	      "\tif [[ $cur == -* ]]; then\n"
	      "\t\tCOMPREPLY=($(compgen -W \"$opts $globals\" -- \"$cur\"))\n"
	      "\telif [[ -n $words ]]; then\n"
	      "\t\tCOMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
	      "\telif [[ -n $files ]]; then\n"
	      "\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n"
	      "\tfi\n}\n\ncomplete -F _mdns_doctor mdns-doctor\n",
	    f);
	hcmd_free(&g);
	return ferror(f) ? -1 : 0;
}
