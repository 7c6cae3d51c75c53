/*
 * mtu-search.c — upstream's binarySearchMTU as the engine runs it (see
 * mtu-search.h): high end, low end, then bisection; the best passing
 * size wins. No I/O, no retries, no clock: those are the prober's.
 */
#include "engine/mtu-search.h"

void
msearch_init(struct msearch *s, unsigned lo, unsigned hi)
{
	s->lo = lo;
	s->hi = hi;
	s->l = s->h = 0;
	s->best = 0;
	s->step = 0;
	s->failed_low = 0;
	s->cur = hi;
}

unsigned
msearch_next(const struct msearch *s)
{
	return s->cur;
}

void
msearch_report(struct msearch *s, int pass)
{
	if (s->cur == 0)
		return;
	switch (s->step) {
	case 0: /* high end */
		if (pass) {
			s->best = s->cur;
			s->cur = 0;
			return;
		}
		s->step = 1;
		s->cur = s->lo;
		return;
	case 1: /* low end */
		if (!pass) {
			s->failed_low = 1;
			s->cur = 0;
			return;
		}
		s->best = s->lo;
		s->l = s->lo + 1;
		s->h = s->hi - 1;
		s->step = 2;
		break;
	default: /* bisection */
		if (pass) {
			s->best = s->cur;
			s->l = s->cur + 1;
		} else
			s->h = s->cur - 1;
		break;
	}
	if (s->l > s->h || s->h < s->lo) {
		s->cur = 0;
		return;
	}
	s->cur = (s->l + s->h) / 2;
}
