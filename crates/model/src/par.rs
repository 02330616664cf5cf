//! Long lists worked through on several cores: the lines of a section of
//! thousands of servers or rules are read, compared and rendered in
//! parts, each part on a thread of its own, the results kept in order.
//! A short list stays on the calling thread.

use std::sync::OnceLock;

/// The fewest items a thread is given: below twice this, one thread does
/// the whole list (starting a thread costs about what a few items do).
const PART: usize = 512;

/// The threads a list may use: the cores there are, at most four.
fn threads() -> usize {
    static THREADS: OnceLock<usize> = OnceLock::new();
    *THREADS.get_or_init(|| {
        std::thread::available_parallelism()
            .map(|n| n.get().min(4))
            .unwrap_or(1)
    })
}

/// `f` over `items`, in order. Each part starts with its own `state`
/// (a cache of lookups); the items are moved into the part that uses them,
/// so what they hold is dropped there too.
pub(crate) fn map<T, R, S>(
    items: Vec<T>,
    state: impl Fn() -> S + Sync,
    f: impl Fn(&mut S, T) -> R + Sync,
) -> Vec<R>
where
    T: Send,
    R: Send,
{
    let count = threads().min(items.len() / PART).max(1);
    if count == 1 {
        let mut state = state();
        return items.into_iter().map(|item| f(&mut state, item)).collect();
    }
    let size = items.len().div_ceil(count);
    let mut parts = Vec::with_capacity(count);
    let mut rest = items;
    while rest.len() > size {
        let tail = rest.split_off(rest.len() - size);
        parts.push(tail);
    }
    parts.push(rest);
    parts.reverse();
    let run = |part: Vec<T>| {
        let mut state = state();
        part.into_iter()
            .map(|item| f(&mut state, item))
            .collect::<Vec<R>>()
    };
    std::thread::scope(|scope| {
        let mut parts = parts.into_iter();
        let first = parts.next().unwrap_or_default();
        let others: Vec<_> = parts.map(|part| scope.spawn(|| run(part))).collect();
        let mut out = run(first);
        for other in others {
            match other.join() {
                Ok(done) => out.extend(done),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    })
}

/// Drops a long list on several cores (a list of JSON objects frees
/// every string of every object).
pub(crate) fn drop_all<T: Send>(items: Vec<T>) {
    map(items, || (), |_, item| drop(item));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_order_at_every_length() {
        for n in [0, 1, PART, 2 * PART - 1, 2 * PART, 5 * PART + 3, 20_000] {
            let items: Vec<usize> = (0..n).collect();
            let got = map(
                items,
                || 0usize,
                |seen, i| {
                    *seen += 1;
                    (i * 2, *seen)
                },
            );
            assert_eq!(got.len(), n);
            assert!(got.iter().enumerate().all(|(i, (v, _))| *v == i * 2));
            // Each part counts from one: the state is the part's own.
            let parts = got.iter().filter(|(_, seen)| *seen == 1).count();
            let expected = match n {
                0 => 0,
                _ => threads().min(n / PART).max(1),
            };
            assert_eq!(parts, expected);
        }
    }
}
