//! Accessible PDF documents of headings, paragraphs and lists (the report
//! of a conversation, the half-yearly evaluation), on A4.
//!
//! krilla writes the PDF and checks it against PDF/UA-1: a title, the
//! language (Dutch), every piece of text tagged in reading order
//! (headings, paragraphs, list items) so a screen reader reads it as the
//! page shows it, and the fonts embedded. The font is Liberation Sans
//! (SIL Open Font License, `assets/fonts/`), compiled into the binary so
//! the service reads no file for it. Lines are broken at spaces by the
//! font's advance widths; a word wider than a line is broken where it
//! must be.

use std::num::NonZeroU16;

use krilla::configure::{Accessibility, ConfigurationBuilder};
use krilla::destination::XyzDestination;
use krilla::geom::Point;
use krilla::metadata::Metadata;
use krilla::outline::{Outline, OutlineNode};
use krilla::page::PageSettings;
use krilla::surface::Surface;
use krilla::tagging::{ContentTag, Identifier, SpanTag, Tag, TagGroup, TagKind, TagTree};
use krilla::text::{Font, TextDirection};
use krilla::{Document, SerializeSettings};

static REGULAR: &[u8] = include_bytes!("../assets/fonts/LiberationSans-Regular.ttf");
static BOLD: &[u8] = include_bytes!("../assets/fonts/LiberationSans-Bold.ttf");

/// A4 in points (1/72 inch).
const PAGE: (f32, f32) = (595.0, 842.0);
/// The margin on every side, in points (2 cm).
const MARGIN: f32 = 56.7;
/// Body text size, in points.
const BODY: f32 = 11.0;

/// One block of the document, in reading order.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A heading of level 1 (the title) to 3.
    Heading(u16, String),
    /// A paragraph; line breaks in it start new lines.
    Paragraph(String),
    /// A bulleted list, one string per item.
    List(Vec<String>),
}

impl Block {
    /// A list of `items`, or the paragraph `none` when there are none.
    pub fn list_or(items: Vec<String>, none: &str) -> Block {
        if items.is_empty() {
            Block::Paragraph(none.to_string())
        } else {
            Block::List(items)
        }
    }
}

/// A PDF could not be made (a font did not load, or the document did not
/// pass the PDF/UA checks: a fault in this module, not in the input).
#[derive(Debug, thiserror::Error)]
#[error("the PDF could not be made: {0}")]
pub struct PdfError(String);

/// The document `title` (its metadata title and the first heading) with
/// `blocks`, as PDF bytes, in Dutch.
///
/// # Errors
/// [`PdfError`] when krilla refuses the document.
pub fn render(title: &str, blocks: &[Block]) -> Result<Vec<u8>, PdfError> {
    let fonts = Fonts::load()?;
    let configuration = ConfigurationBuilder::new()
        .with_accessibility_validator(Accessibility::UA1)
        .finish()
        .map_err(|e| PdfError(format!("{e:?}")))?;
    let settings = SerializeSettings {
        configuration,
        enable_tagging: true,
        ..SerializeSettings::default()
    };
    let mut document = Document::new_with(settings);
    document.set_metadata(
        Metadata::new()
            .title(title.to_string())
            .language("nl-NL".to_string())
            .creator("jbt-planner".to_string()),
    );
    let blocks: Vec<Block> = blocks.iter().map(|b| fonts.printable(b)).collect();
    let lines = layout(fonts, &blocks);
    let tree = draw(&mut document, fonts, &lines);
    document.set_tag_tree(tree);
    // The error names no text: only what kind of problem it was.
    document.finish().map_err(|e| match e {
        krilla::error::KrillaError::Validation(problems) => {
            PdfError(format!("{} PDF/UA problems", problems.len()))
        }
        _ => PdfError("a font or a limit of the PDF format".into()),
    })
}

struct Fonts {
    regular: Font,
    bold: Font,
    regular_face: ttf_parser::Face<'static>,
    bold_face: ttf_parser::Face<'static>,
}

impl Fonts {
    /// The embedded fonts, parsed (and hashed by krilla) once per process.
    fn load() -> Result<&'static Self, PdfError> {
        static FONTS: std::sync::OnceLock<Fonts> = std::sync::OnceLock::new();
        if let Some(fonts) = FONTS.get() {
            return Ok(fonts);
        }
        let fonts = Fonts::parse()?;
        Ok(FONTS.get_or_init(|| fonts))
    }

    fn parse() -> Result<Self, PdfError> {
        let font = |data: &'static [u8]| {
            Font::new(data.into(), 0).ok_or_else(|| PdfError("font did not load".into()))
        };
        let face = |data: &'static [u8]| {
            ttf_parser::Face::parse(data, 0).map_err(|e| PdfError(e.to_string()))
        };
        Ok(Self {
            regular: font(REGULAR)?,
            bold: font(BOLD)?,
            regular_face: face(REGULAR)?,
            bold_face: face(BOLD)?,
        })
    }

    /// `block` with every character the font cannot draw replaced: tabs
    /// and carriage returns by a space, the rest (emoji, scripts the font
    /// lacks) by `?`. PDF/UA refuses a document that draws a missing glyph.
    fn printable(&self, block: &Block) -> Block {
        let clean = |text: &str| -> String {
            text.chars()
                .map(|c| match c {
                    '\t' | '\r' => ' ',
                    '\n' => '\n',
                    c if self.regular_face.glyph_index(c).is_some()
                        && self.bold_face.glyph_index(c).is_some() =>
                    {
                        c
                    }
                    _ => '?',
                })
                .collect()
        };
        match block {
            Block::Heading(level, text) => Block::Heading(*level, clean(text)),
            Block::Paragraph(text) => Block::Paragraph(clean(text)),
            Block::List(items) => Block::List(items.iter().map(|i| clean(i)).collect()),
        }
    }

    /// The width of `text` at `size` points, without kerning.
    fn width(&self, bold: bool, size: f32, text: &str) -> f32 {
        let face = if bold {
            &self.bold_face
        } else {
            &self.regular_face
        };
        let units: u32 = text
            .chars()
            .map(|c| {
                face.glyph_index(c)
                    .and_then(|g| face.glyph_hor_advance(g))
                    .map_or(0, u32::from)
            })
            .sum();
        units as f32 * size / f32::from(face.units_per_em())
    }
}

/// Which tag group a line belongs to: the index of its block, and of the
/// list item within it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Owner {
    block: usize,
    item: Option<usize>,
}

/// One line to draw: its text, style and the block it belongs to.
#[derive(Debug, Clone)]
struct Line {
    text: String,
    bold: bool,
    size: f32,
    /// Space before this line, in points (paragraph spacing).
    before: f32,
    /// Indent, in points (list items).
    indent: f32,
    owner: Owner,
    /// The first line of its paragraph or heading.
    first: bool,
    /// On a heading's first line: the whole heading (for the outline and
    /// the tag's title, when it wraps).
    heading: Option<String>,
}

fn layout(fonts: &Fonts, blocks: &[Block]) -> Vec<Line> {
    let width = PAGE.0 - 2.0 * MARGIN;
    let mut lines = Vec::new();
    for (block, content) in blocks.iter().enumerate() {
        let owner = Owner { block, item: None };
        match content {
            Block::Heading(level, text) => {
                let size = match level {
                    1 => 18.0,
                    2 => 14.0,
                    _ => 12.0,
                };
                let before = if block == 0 { 0.0 } else { size };
                let at = lines.len();
                push_wrapped(
                    fonts,
                    &mut lines,
                    text,
                    (true, size),
                    before,
                    0.0,
                    width,
                    owner,
                );
                if let Some(first) = lines.get_mut(at) {
                    first.heading = Some(text.clone());
                }
            }
            Block::Paragraph(text) => {
                let mut before = BODY * 0.6;
                for part in text.lines() {
                    push_wrapped(
                        fonts,
                        &mut lines,
                        part,
                        (false, BODY),
                        before,
                        0.0,
                        width,
                        owner,
                    );
                    before = 0.0;
                }
            }
            Block::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    let owner = Owner {
                        block,
                        item: Some(i),
                    };
                    let text = format!("• {item}");
                    let before = if i == 0 { BODY * 0.6 } else { BODY * 0.2 };
                    push_wrapped(
                        fonts,
                        &mut lines,
                        &text,
                        (false, BODY),
                        before,
                        12.0,
                        width - 12.0,
                        owner,
                    );
                }
            }
        }
    }
    lines
}

/// Breaks `text` into lines no wider than `width` and pushes them.
#[allow(clippy::too_many_arguments)]
fn push_wrapped(
    fonts: &Fonts,
    lines: &mut Vec<Line>,
    text: &str,
    (bold, size): (bool, f32),
    before: f32,
    indent: f32,
    width: f32,
    owner: Owner,
) {
    let mut current = String::new();
    let mut first = true;
    let mut emit = |current: &mut String, first: &mut bool| {
        lines.push(Line {
            text: std::mem::take(current),
            bold,
            size,
            before: if *first { before } else { 0.0 },
            indent,
            owner,
            first: *first,
            heading: None,
        });
        *first = false;
    };
    for word in text.split(' ') {
        let candidate = if current.is_empty() {
            word.to_string()
        } else {
            format!("{current} {word}")
        };
        if fonts.width(bold, size, &candidate) <= width {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            emit(&mut current, &mut first);
        }
        // A word wider than the line is broken by characters.
        for c in word.chars() {
            current.push(c);
            if fonts.width(bold, size, &current) > width && current.chars().count() > 1 {
                let last = current.pop().unwrap_or(c);
                emit(&mut current, &mut first);
                current.push(last);
            }
        }
    }
    emit(&mut current, &mut first);
}

/// Draws `lines` over as many pages as they need and returns the tag tree
/// that puts them in reading order.
fn draw(document: &mut Document, fonts: &Fonts, lines: &[Line]) -> TagTree {
    let mut ids: Vec<(Owner, Identifier)> = Vec::new();
    let mut headings = Vec::new();
    let mut rest = lines;
    let mut page_index = 0;
    while !rest.is_empty() {
        let settings = PageSettings::from_wh(PAGE.0, PAGE.1).expect("A4 is a valid page size");
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        let mut at = Place {
            page: page_index,
            ids: &mut ids,
            headings: &mut headings,
        };
        let used = draw_page(&mut surface, fonts, rest, &mut at);
        footer(&mut surface, fonts, page_index + 1);
        surface.finish();
        page.finish();
        rest = &rest[used..];
        page_index += 1;
    }
    document.set_outline(outline(headings));
    tree(lines, ids)
}

/// Where drawn lines are recorded: their tag identifiers, and the headings
/// with their page and position for the outline.
struct Place<'a> {
    page: usize,
    ids: &'a mut Vec<(Owner, Identifier)>,
    headings: &'a mut Vec<Heading>,
}

/// A heading as the outline (bookmarks) lists it.
struct Heading {
    level: u16,
    text: String,
    page: usize,
    y: f32,
}

/// The outline PDF/UA asks for: the title, the other headings under it.
fn outline(headings: Vec<Heading>) -> Outline {
    let mut outline = Outline::new();
    let mut top: Option<OutlineNode> = None;
    for h in headings {
        let node = OutlineNode::new(
            h.text,
            XyzDestination::new(h.page, Point::from_xy(MARGIN, (h.y - 20.0).max(0.0))),
        );
        match (&mut top, h.level) {
            (_, 1) => {
                if let Some(done) = top.replace(node) {
                    outline.push_child(done);
                }
            }
            (Some(parent), _) => parent.push_child(node),
            (None, _) => outline.push_child(node),
        }
    }
    if let Some(done) = top {
        outline.push_child(done);
    }
    outline
}

/// Draws as many lines as fit on one page; returns how many.
fn draw_page(
    surface: &mut Surface<'_>,
    fonts: &Fonts,
    lines: &[Line],
    at: &mut Place<'_>,
) -> usize {
    let bottom = PAGE.1 - MARGIN - 20.0;
    let mut y = MARGIN;
    for (i, line) in lines.iter().enumerate() {
        let step = line.before + line.size * 1.35;
        if i > 0 && y + step > bottom {
            return i;
        }
        y += step;
        let font = if line.bold {
            fonts.bold.clone()
        } else {
            fonts.regular.clone()
        };
        let id = surface.start_tagged(ContentTag::Span(SpanTag::empty()));
        surface.draw_text(
            Point::from_xy(MARGIN + line.indent, y),
            font,
            line.size,
            &line.text,
            false,
            TextDirection::Auto,
        );
        surface.end_tagged();
        at.ids.push((line.owner, id));
        if line.bold && line.first {
            let level = heading_level(line.size);
            at.headings.push(Heading {
                level,
                text: line.heading.clone().unwrap_or_else(|| line.text.clone()),
                page: at.page,
                y,
            });
        }
    }
    lines.len()
}

/// The page number at the foot of the page, marked as an artifact so a
/// screen reader skips it.
fn footer(surface: &mut Surface<'_>, fonts: &Fonts, number: usize) {
    use krilla::tagging::{Artifact, ArtifactType};
    let text = format!("Pagina {number}");
    let x = PAGE.0 - MARGIN - fonts.width(false, 9.0, &text);
    surface.start_tagged(ContentTag::Artifact(Artifact::with_kind(
        ArtifactType::PageNumber,
    )));
    surface.draw_text(
        Point::from_xy(x, PAGE.1 - MARGIN + 10.0),
        fonts.regular.clone(),
        9.0,
        &text,
        false,
        TextDirection::Auto,
    );
    surface.end_tagged();
}

/// The tag tree: one group per block (a heading of its level, a paragraph,
/// a list of items), holding its lines in order.
fn tree(lines: &[Line], ids: Vec<(Owner, Identifier)>) -> TagTree {
    let mut tree = TagTree::new();
    let mut ids = ids.into_iter().peekable();
    let mut blocks: Vec<usize> = lines.iter().map(|l| l.owner.block).collect();
    blocks.dedup();
    for block in blocks {
        let first = lines.iter().find(|l| l.owner.block == block);
        let Some(first) = first else { continue };
        let mut group = match first.owner.item {
            Some(_) => TagGroup::new(Tag::L(krilla::tagging::ListNumbering::Disc)),
            None if first.bold => {
                let level = NonZeroU16::new(heading_level(first.size)).unwrap_or(NonZeroU16::MIN);
                let title = first.heading.clone().unwrap_or_else(|| first.text.clone());
                TagGroup::new(TagKind::from(Tag::Hn(level, Some(title))))
            }
            None => TagGroup::new(Tag::P),
        };
        let mut item: Option<(usize, TagGroup)> = None;
        while let Some((owner, _)) = ids.peek() {
            if owner.block != block {
                break;
            }
            let Some((owner, id)) = ids.next() else { break };
            match owner.item {
                None => group.push(id),
                Some(i) => {
                    if item.as_ref().is_some_and(|(j, _)| *j != i) {
                        if let Some((_, done)) = item.take() {
                            group.push(list_item(done));
                        }
                    }
                    item.get_or_insert_with(|| (i, TagGroup::new(Tag::LBody)))
                        .1
                        .push(id);
                }
            }
        }
        if let Some((_, done)) = item {
            group.push(list_item(done));
        }
        tree.push(group);
    }
    tree
}

fn list_item(body: TagGroup) -> TagGroup {
    let mut li = TagGroup::new(Tag::LI);
    li.push(body);
    li
}

fn heading_level(size: f32) -> u16 {
    if size >= 18.0 {
        1
    } else if size >= 14.0 {
        2
    } else {
        3
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_paragraph_breaks_into_lines_that_fit_and_keeps_every_word() {
        let fonts = Fonts::load().expect("fonts");
        let text = "Afspraak over dagelijks contact met school en de wijkagent. ".repeat(20);
        let lines = layout(fonts, &[Block::Paragraph(text.clone())]);
        assert!(lines.len() > 3, "wrapped into {} lines", lines.len());
        for line in &lines {
            assert!(fonts.width(false, BODY, &line.text) <= PAGE.0 - 2.0 * MARGIN);
        }
        let joined: Vec<&str> = lines
            .iter()
            .flat_map(|l| l.text.split_whitespace())
            .collect();
        assert_eq!(joined, text.split_whitespace().collect::<Vec<_>>());
    }

    #[test]
    fn characters_the_font_lacks_do_not_fail_the_document() {
        let pdf = render(
            "Verslag",
            &[
                Block::Heading(1, "Verslag".into()),
                Block::Paragraph("Kolom\tgeplakt uit Word\r\nDank 👍 谢谢".into()),
            ],
        )
        .expect("tabs, emoji and other scripts are replaced, not refused");
        let text = pdf_extract::extract_text_from_mem(&pdf).expect("text");
        assert!(text.contains("Kolom geplakt uit Word"), "{text}");
        assert!(text.contains("Dank ?"), "{text}");
    }

    #[test]
    fn a_document_over_several_pages_passes_pdf_ua_and_reads_back() {
        let items: Vec<String> = (1..=60)
            .map(|i| format!("Afspraak {i}: wie doet wat"))
            .collect();
        let pdf = render(
            "Verslag JBT-2026-0001",
            &[
                Block::Heading(1, "Verslag JBT-2026-0001".into()),
                Block::Paragraph("Besproken en besloten.\nTweede regel.".into()),
                Block::Heading(2, "Veiligheidsafspraken".into()),
                Block::List(items),
            ],
        )
        .expect("a valid PDF/UA document");
        assert!(pdf.starts_with(b"%PDF-"));
        // Tagged, in Dutch, titled, and declared PDF/UA-1.
        let has = |needle: &[u8]| pdf.windows(needle.len()).any(|w| w == needle);
        for needle in [
            &b"/StructTreeRoot"[..],
            b"/Lang(nl-NL)",
            b"/Outlines",
            b"pdfuaid:part",
        ] {
            assert!(has(needle), "{}", String::from_utf8_lossy(needle));
        }
        let text = pdf_extract::extract_text_from_mem(&pdf).expect("text");
        assert!(text.contains("Veiligheidsafspraken"), "{text}");
        assert!(text.contains("Afspraak 60: wie doet wat"), "{text}");
        assert!(text.contains("Pagina 2"));
    }
}
