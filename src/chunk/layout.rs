//! From definitions to chunks: whole definitions, split containers, and the glue between them.

use super::ChunkConfig;
use super::ChunkKind;
use super::source::{Cx, Group, Source, windows};
use super::walker::Def;

enum Piece {
    Def(usize),
    /// Non-definition text, possibly holding constants (which count as glue).
    Glue {
        start: usize,
        end: usize,
        consts: Vec<usize>,
    },
}

fn is_glue_def(d: &Def) -> bool {
    d.kind == ChunkKind::Constant
}

/// Chunks `start..end`, which holds the definitions `defs` (in order) and glue around them.
pub(super) fn chunk_level(
    cx: &mut Cx,
    all: &[Def],
    start: usize,
    end: usize,
    defs: &[usize],
    ctx: &str,
) {
    let src = cx.src;
    // 1. Pieces: definitions and the glue between them.
    let mut pieces: Vec<Piece> = Vec::new();
    let mut pos = start;
    let add_glue = |pieces: &mut Vec<Piece>, s: usize, e: usize, c: Option<usize>| {
        if e > s && !src.is_blank(s..e) {
            if let Some(Piece::Glue { end, consts, .. }) = pieces.last_mut() {
                *end = e;
                consts.extend(c);
                return;
            }
            pieces.push(Piece::Glue {
                start: s,
                end: e,
                consts: c.into_iter().collect(),
            });
        }
    };
    for &i in defs {
        let d = &all[i];
        let (ds, de) = (d.start.max(pos), d.end.min(end));
        if ds >= de {
            continue;
        }
        add_glue(&mut pieces, pos, ds, None);
        if is_glue_def(d) {
            add_glue(&mut pieces, ds, de, Some(i));
        } else {
            pieces.push(Piece::Def(i));
        }
        pos = de;
    }
    add_glue(&mut pieces, pos, end, None);

    // 2. Definitions that fit stay whole; glue runs are cut to max_chars.
    enum Out {
        One {
            start: usize,
            end: usize,
            def: usize,
        },
        Many,
        Glue {
            start: usize,
            end: usize,
            consts: Vec<usize>,
        },
    }
    let mut outs: Vec<Out> = Vec::new();
    for piece in &pieces {
        match piece {
            &Piece::Def(i) => {
                let d = &all[i];
                if d.end - d.start <= cx.cfg.max_chars {
                    outs.push(Out::One {
                        start: d.start,
                        end: d.end,
                        def: i,
                    });
                } else {
                    outs.push(Out::Many);
                    split_def(cx, all, d, ctx);
                }
            }
            Piece::Glue { start, end, consts } => {
                for (s, e) in glue_runs(src, cx.cfg, *start, *end) {
                    let inside: Vec<usize> = consts
                        .iter()
                        .copied()
                        .filter(|&c| all[c].start >= s && all[c].end <= e)
                        .collect();
                    outs.push(Out::Glue {
                        start: s,
                        end: e,
                        consts: inside,
                    });
                }
            }
        }
    }

    // 3. Small glue joins the previous definition if it fits, else the next one.
    let max = cx.cfg.max_chars;
    let min = cx.cfg.min_chars;
    let mut absorbed = vec![false; outs.len()];
    for k in 0..outs.len() {
        let Out::Glue {
            start: gs,
            end: ge,
            ref consts,
        } = outs[k]
        else {
            continue;
        };
        // Glue holding constants stays apart so that no definition hides their names.
        if ge - gs >= min || !consts.is_empty() {
            continue;
        }
        if k > 0
            && let Out::One { start, end, .. } = &mut outs[k - 1]
            && ge - *start <= max
        {
            *end = ge;
            absorbed[k] = true;
            continue;
        }
        if k + 1 < outs.len()
            && let Out::One { start, end, .. } = &mut outs[k + 1]
            && *end - gs <= max
        {
            *start = gs;
            absorbed[k] = true;
        }
    }
    for (k, out) in outs.iter().enumerate() {
        match out {
            Out::One { start, end, def } => {
                let d = &all[*def];
                let enclosing = join(ctx, &d.label);
                match first_member(all, d) {
                    // A container that fits: its header and members are units of their own, grouped so that
                    // the main model still embeds the container whole.
                    Some(first) if cx.cfg.split_containers => {
                        if let Some((s, e)) = cx.span(*start, *end) {
                            cx.groups.push(Group {
                                start: s,
                                end: e,
                                symbol: d.name.clone(),
                                kind: d.kind,
                                enclosing: enclosing.clone(),
                            });
                        }
                        let members = members_from(all, d, first);
                        cx.push(*start, all[first].start, Some(&d.name), d.kind, &enclosing);
                        chunk_level(cx, all, all[first].start, *end, &members, &enclosing);
                    }
                    _ => cx.push(*start, *end, Some(&d.name), d.kind, &enclosing),
                }
            }
            Out::Glue { start, end, consts } if !absorbed[k] => {
                if let [only] = consts[..] {
                    let d = &all[only];
                    cx.push(*start, *end, Some(&d.name), d.kind, &join(ctx, &d.label));
                } else {
                    cx.push(*start, *end, None, ChunkKind::Block, ctx);
                }
            }
            _ => {}
        }
    }
}

/// Cuts glue `start..end` into runs of at most `max_chars`, cutting between lines (preferably at
/// blank lines).
fn glue_runs(src: &Source, cfg: &ChunkConfig, start: usize, end: usize) -> Vec<(usize, usize)> {
    if end - start <= cfg.max_chars {
        return vec![(start, end)];
    }
    windows(src, cfg, start, end, 0)
}

/// The first member of container `d` that is not glue (constants stay in the header), if `d` is a container
/// with one.
fn first_member(all: &[Def], d: &Def) -> Option<usize> {
    if !d.kind.is_container() {
        return None;
    }
    d.children
        .iter()
        .copied()
        .find(|&c| all[c].start >= d.start && all[c].end <= d.end && !is_glue_def(&all[c]))
}

/// The members of container `d` from `first` on.
fn members_from(all: &[Def], d: &Def, first: usize) -> Vec<usize> {
    d.children
        .iter()
        .copied()
        .filter(|&c| all[c].start >= all[first].start && all[c].end <= d.end)
        .collect()
}

/// Chunks a definition too big for one chunk.
fn split_def(cx: &mut Cx, all: &[Def], d: &Def, ctx: &str) {
    let enclosing = join(ctx, &d.label);
    if let Some(first) = first_member(all, d) {
        // The header runs to the first member.
        let members = members_from(all, d, first);
        cx.unit(
            d.start,
            all[first].start,
            0,
            Some(&d.name),
            d.kind,
            &enclosing,
        );
        chunk_level(cx, all, all[first].start, d.end, &members, &enclosing);
    } else {
        let overlap = cx.cfg.overlap_lines;
        cx.windows_chunk(d.start, d.end, overlap, Some(&d.name), d.kind, &enclosing);
    }
}

fn join(ctx: &str, label: &str) -> String {
    if ctx.is_empty() {
        label.to_owned()
    } else {
        format!("{ctx} > {label}")
    }
}
