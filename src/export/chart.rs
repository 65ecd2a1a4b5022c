//! Charts as SVG, drawn with plotters: the items' IKM as bars coloured by grade with the grade
//! boundaries marked, and the trend of the IKM over periods. The PDF embeds them and the
//! dashboard serves them, so a chart is drawn the same way everywhere.

use plotters::coord::types::{RangedCoordf64, RangedCoordusize};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::AppError;
use crate::instrument::Lang;
use crate::reporting::UnitReport;

/// Which chart of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Each item's IKM.
    Items,
    /// The IKM over the trend's periods.
    Trend,
    /// The period day by day: responses as bars, the IKM as a line.
    Daily,
}

/// A chart of a report, titled in the reader's language, with its decimal separator.
pub fn of_report(
    report: &UnitReport,
    kind: Kind,
    lang: Lang,
    boundaries: &[f64],
) -> Result<String, AppError> {
    let decimal = if lang == Lang::Id { ',' } else { '.' };
    let title = |id: &str, en: &str| if lang == Lang::Id { id } else { en }.to_owned();
    match kind {
        Kind::Items => {
            let items: Vec<Bar<'_>> = report
                .report
                .items
                .iter()
                .map(|i| Bar {
                    label: &i.code,
                    value: i.ikm.as_ref().map(|v| v.to_f64()),
                    grade: i.grade.as_deref(),
                })
                .collect();
            bars(
                &title("IKM per unsur", "IKM by item"),
                &title("- - - batas mutu", "- - - grade boundaries"),
                &items,
                boundaries,
                decimal,
                ITEMS_SIZE,
            )
        }
        Kind::Daily => {
            let days: Vec<(String, u64, Option<f64>)> = report
                .daily
                .iter()
                .map(|d| {
                    (
                        d.date.clone(),
                        d.respondents,
                        d.ikm.as_ref().map(|v| v.to_f64()),
                    )
                })
                .collect();
            daily(
                &title("Respons dan IKM per hari", "Responses and IKM by day"),
                &title(
                    "batang: respons · garis: IKM",
                    "bars: responses · line: IKM",
                ),
                &days,
                TREND_SIZE,
            )
        }
        Kind::Trend => {
            let points: Vec<(String, Option<f64>)> = report
                .trend
                .iter()
                .map(|t| {
                    (
                        crate::text::period_short(&t.period, lang),
                        t.ikm.as_ref().map(|v| v.to_f64()),
                    )
                })
                .collect();
            trend(
                &title("Tren IKM", "IKM trend"),
                &points,
                decimal,
                TREND_SIZE,
            )
        }
    }
}

/// Pixel size of the item chart.
pub const ITEMS_SIZE: (u32, u32) = (620, 250);
/// Pixel size of the trend chart.
pub const TREND_SIZE: (u32, u32) = (620, 210);

fn fail(e: impl std::fmt::Display) -> AppError {
    AppError::internal(format!("chart: {e}"))
}

/// A grade's bar colour (colour-blind safe, dark enough for white-on-colour contrast).
fn grade_colour(grade: Option<&str>) -> RGBColor {
    match grade {
        Some("A") => RGBColor(0, 114, 178),
        Some("B") => RGBColor(0, 128, 96),
        Some("C") => RGBColor(204, 121, 0),
        Some("D") => RGBColor(180, 40, 40),
        _ => RGBColor(150, 150, 150),
    }
}

/// One bar: label, value on the 25-100 scale (`None` when not computable), grade.
pub struct Bar<'a> {
    /// Label under the bar (an item code).
    pub label: &'a str,
    /// Its value.
    pub value: Option<f64>,
    /// Its grade.
    pub grade: Option<&'a str>,
}

/// An SVG of `size` on a white ground, drawn by `draw`.
fn drawn(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, plotters::coord::Shift>) -> Result<(), AppError>,
) -> Result<String, AppError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(fail)?;
        draw(&root)?;
        root.present().map_err(fail)?;
    }
    Ok(svg)
}

/// Vertical bars on a 0-100 axis, with dashed lines at the grade boundaries and each value
/// printed above its bar (`decimal` is the reader's decimal separator).
fn bars(
    title: &str,
    legend: &str,
    bars: &[Bar<'_>],
    boundaries: &[f64],
    decimal: char,
    size: (u32, u32),
) -> Result<String, AppError> {
    drawn(size, |root| {
        let n = bars.len().max(1);
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", LABEL + 4))
            .margin(8)
            // Room at the right for the boundaries' values.
            .margin_right(48)
            .x_label_area_size(28)
            .y_label_area_size(40)
            .build_cartesian_2d((0..n - 1).into_segmented(), 0f64..105f64)
            .map_err(fail)?;
        let labels: Vec<String> = bars.iter().map(|b| b.label.to_owned()).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .y_labels(6)
            .y_label_formatter(&|v| format!("{v:.0}"))
            .x_label_formatter(&|x: &SegmentValue<usize>| match x {
                SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .label_style(("sans-serif", LABEL))
            .draw()
            .map_err(fail)?;
        chart
            .draw_series(bars.iter().enumerate().filter_map(|(i, b)| {
                let v = b.value?;
                let mut rect = Rectangle::new(
                    [
                        (SegmentValue::Exact(i), 0.0),
                        (SegmentValue::Exact(i + 1), v),
                    ],
                    grade_colour(b.grade).filled(),
                );
                rect.set_margin(0, 0, 6, 6);
                Some(rect)
            }))
            .map_err(fail)?;
        chart
            .draw_series(bars.iter().enumerate().filter_map(|(i, b)| {
                let v = b.value?;
                let text = two_decimals(v, decimal);
                Some(Text::new(
                    text,
                    (SegmentValue::CenterOf(i), v + 4.5),
                    anchored(VALUE, &BLACK, HPos::Center, VPos::Bottom),
                ))
            }))
            .map_err(fail)?;
        for &b in boundaries {
            boundary(&mut chart, n, b)?;
            // Its value just past the right end of its line, clear of the bars.
            let (x, y) = chart.backend_coord(&(SegmentValue::Exact(n), b));
            root.draw(&Text::new(
                two_decimals(b, decimal),
                (x + 4, y),
                anchored(VALUE, &GREY_TEXT, HPos::Left, VPos::Center),
            ))
            .map_err(fail)?;
        }
        // What the dashed lines are, in the top right corner.
        if !boundaries.is_empty() {
            top_right(root, legend, 8)?;
        }
        Ok(())
    })
}

/// A value printed with two decimals and the reader's decimal separator.
fn two_decimals(v: f64, decimal: char) -> String {
    format!("{v:.2}").replace('.', &decimal.to_string())
}

/// A text style of `size` in `colour`, anchored at its point by `h` and `v`.
fn anchored(size: u32, colour: &RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    ("sans-serif", size)
        .into_font()
        .color(colour)
        .pos(Pos::new(h, v))
}

/// A chart's legend in its top right corner, `inset` pixels from the right edge.
fn top_right(
    root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    legend: &str,
    inset: i32,
) -> Result<(), AppError> {
    let (w, _) = root.dim_in_pixel();
    root.draw(&Text::new(
        legend.to_owned(),
        (w as i32 - inset, 8),
        anchored(LABEL, &GREY_TEXT, HPos::Right, VPos::Top),
    ))
    .map_err(fail)
}

/// Axis labels and legends, in pixels of the chart's own size (the dashboard shows it at least
/// that wide, so text is at least 12 px on screen).
const LABEL: u32 = 13;
/// Values printed over bars and points.
const VALUE: u32 = 12;
/// Grey for legends and boundary values, dark enough to read on white.
const GREY_TEXT: RGBColor = RGBColor(70, 70, 70);

type BarChart<'a> = ChartContext<
    'a,
    SVGBackend<'a>,
    Cartesian2d<plotters::coord::ranged1d::SegmentedCoord<RangedCoordusize>, RangedCoordf64>,
>;

fn boundary(chart: &mut BarChart<'_>, n: usize, at: f64) -> Result<(), AppError> {
    chart
        .draw_series(DashedLineSeries::new(
            vec![(SegmentValue::Exact(0), at), (SegmentValue::Exact(n), at)],
            4,
            3,
            ShapeStyle::from(&RGBColor(90, 90, 90)).stroke_width(1),
        ))
        .map_err(fail)?;
    Ok(())
}

/// Each day's responses as grey bars on the left axis and its IKM as a blue line on the right
/// axis (days without responses break the line); the x axis marks the day of the month.
fn daily(
    title: &str,
    legend: &str,
    days: &[(String, u64, Option<f64>)],
    size: (u32, u32),
) -> Result<String, AppError> {
    drawn(size, |root| {
        let n = days.len().max(1);
        let most = days.iter().map(|d| d.1).max().unwrap_or(0).max(1) as f64;
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", LABEL + 4))
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(40)
            .right_y_label_area_size(40)
            .build_cartesian_2d(0f64..n as f64, 0f64..most * 1.15)
            .map_err(fail)?
            .set_secondary_coord(0f64..n as f64, 25f64..105f64);
        let labels: Vec<String> = days
            .iter()
            .map(|d| {
                d.0.get(8..10)
                    .unwrap_or("")
                    .trim_start_matches('0')
                    .to_owned()
            })
            .collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .x_labels(n.min(16))
            .x_label_formatter(&|x: &f64| labels.get(*x as usize).cloned().unwrap_or_default())
            .y_label_formatter(&|v| format!("{v:.0}"))
            .label_style(("sans-serif", LABEL))
            .draw()
            .map_err(fail)?;
        chart
            .configure_secondary_axes()
            .y_label_formatter(&|v| format!("{v:.0}"))
            .label_style(("sans-serif", LABEL))
            .draw()
            .map_err(fail)?;
        let grey = RGBColor(150, 160, 170);
        chart
            .draw_series(days.iter().enumerate().map(|(i, d)| {
                let x = i as f64;
                Rectangle::new([(x + 0.15, 0.0), (x + 0.85, d.1 as f64)], grey.filled())
            }))
            .map_err(fail)?;
        let blue = RGBColor(0, 90, 160);
        // One line per run of days with an IKM.
        let mut run: Vec<(f64, f64)> = Vec::new();
        let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
        for (i, d) in days.iter().enumerate() {
            match d.2 {
                Some(v) => run.push((i as f64 + 0.5, v)),
                None if !run.is_empty() => runs.push(std::mem::take(&mut run)),
                None => {}
            }
        }
        runs.push(run);
        for points in runs.into_iter().filter(|r| !r.is_empty()) {
            chart
                .draw_secondary_series(LineSeries::new(points.clone(), blue.stroke_width(2)))
                .map_err(fail)?;
            chart
                .draw_secondary_series(points.into_iter().map(|p| Circle::new(p, 3, blue.filled())))
                .map_err(fail)?;
        }
        // Clear of the right axis's labels.
        top_right(root, legend, 48)?;
        Ok(())
    })
}

/// The IKM over periods as a line with points; periods without an IKM are left out.
fn trend(
    title: &str,
    points: &[(String, Option<f64>)],
    decimal: char,
    size: (u32, u32),
) -> Result<String, AppError> {
    drawn(size, |root| {
        let n = points.len().max(1);
        let labels: Vec<String> = points.iter().map(|p| p.0.clone()).collect();
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", LABEL + 4))
            .margin(10)
            .x_label_area_size(28)
            .y_label_area_size(40)
            .build_cartesian_2d(0f64..(n as f64 - 0.5).max(0.5), 25f64..105f64)
            .map_err(fail)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .x_labels(n)
            .x_label_formatter(&|x: &f64| {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 {
                    labels.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|v| format!("{v:.0}"))
            .label_style(("sans-serif", LABEL))
            .draw()
            .map_err(fail)?;
        let known: Vec<(f64, f64)> = points
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.1.map(|v| (i as f64, v)))
            .collect();
        let blue = RGBColor(0, 90, 160);
        chart
            .draw_series(LineSeries::new(known.clone(), blue.stroke_width(2)))
            .map_err(fail)?;
        chart
            .draw_series(
                known
                    .iter()
                    .map(|&(x, y)| Circle::new((x, y), 4, blue.filled())),
            )
            .map_err(fail)?;
        chart
            .draw_series(known.iter().map(|&(x, y)| {
                Text::new(
                    two_decimals(y, decimal),
                    (x - 0.15, y + 7.0),
                    ("sans-serif", VALUE),
                )
            }))
            .map_err(fail)?;
        Ok(())
    })
}
