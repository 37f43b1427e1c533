//! Every section and entry form the three conventions define is read into
//! the model: parameters from every parameter section, returns, yields and
//! raises under every title or field their guides allow.

use docpipe_core::model::DocModel;
use docpipe_core::style::Style;
use docpipe_stages::style::{GoogleStyle, NumpyStyle, SphinxStyle};

fn names(doc: &DocModel) -> Vec<&str> {
    doc.params.iter().map(|p| p.name.as_str()).collect()
}

#[test]
fn google_parameter_sections_under_every_title() {
    for title in [
        "Args",
        "Arguments",
        "Parameters",
        "Params",
        "Keyword Args",
        "Keyword Arguments",
        "Other Parameters",
    ] {
        let doc = GoogleStyle.parse(&format!(
            "Do it.\n\n{title}:\n    a (int): The a.\n    b: The b.\n"
        ));
        assert_eq!(names(&doc), ["a", "b"], "{title}");
        assert_eq!(doc.params[0].ty.as_deref(), Some("int"), "{title}");
    }
}

#[test]
fn google_keyword_entries_keep_their_section_and_render_back_there() {
    let text = "Do it.\n\nArgs:\n    a: The a.\n\nKeyword Args:\n    b: The b.\n    **rest: More.";
    let doc = GoogleStyle.parse(text);
    assert_eq!(names(&doc), ["a", "b", "**rest"]);
    assert_eq!(doc.params[0].section, None);
    assert_eq!(doc.params[1].section.as_deref(), Some("Keyword Args"));
    let rendered = GoogleStyle.render(&doc, &Default::default());
    assert_eq!(rendered, text);
}

#[test]
fn google_returns_yields_and_raises_under_their_aliases() {
    for (returns, yields, raises) in [
        ("Returns", "Yields", "Raises"),
        ("Return", "Yield", "Raise"),
    ] {
        let doc = GoogleStyle.parse(&format!(
            "Do it.\n\n{returns}:\n    int: One.\n\n{yields}:\n    str: Two.\n\n{raises}:\n    ValueError: Three.\n"
        ));
        assert_eq!(doc.returns.and_then(|r| r.ty).as_deref(), Some("int"));
        assert_eq!(doc.yields.and_then(|r| r.ty).as_deref(), Some("str"));
        assert_eq!(doc.raises[0].exception, "ValueError");
    }
}

#[test]
fn numpy_parameters_and_other_parameters() {
    let text = "Do it.\n\nParameters\n----------\na : int\n    The a.\n\nOther Parameters\n----------------\nb : str, optional\n    The b.";
    let doc = NumpyStyle.parse(text);
    assert_eq!(names(&doc), ["a", "b"]);
    assert_eq!(doc.params[1].section.as_deref(), Some("Other Parameters"));
    assert_eq!(doc.params[1].ty.as_deref(), Some("str, optional"));
    assert_eq!(NumpyStyle.render(&doc, &Default::default()), text);
}

#[test]
fn numpy_combined_entries_document_each_name() {
    let doc = NumpyStyle.parse(
        "Do it.\n\nParameters\n----------\nx, y : int\n    Coordinates.\n*args, **kwargs\n    Passed on.\n",
    );
    assert_eq!(names(&doc), ["x", "y", "*args", "**kwargs"]);
    assert_eq!(doc.params[1].ty.as_deref(), Some("int"));
    assert_eq!(doc.params[1].description, "Coordinates.");
    assert!(doc.param("kwargs").is_some());
}

#[test]
fn numpy_returns_yields_receives_raises_and_warns() {
    let doc = NumpyStyle.parse(
        "Do it.\n\nReturns\n-------\nint\n    One.\n\nYields\n------\nstr\n    Two.\n\nReceives\n--------\nvalue : int\n    Sent in.\n\nRaises\n------\nValueError\n    Three.\n\nWarns\n-----\nUserWarning\n    Four.\n",
    );
    assert_eq!(doc.returns.and_then(|r| r.ty).as_deref(), Some("int"));
    assert_eq!(doc.yields.and_then(|r| r.ty).as_deref(), Some("str"));
    assert_eq!(doc.raises[0].exception, "ValueError");
    // Receives and Warns are known sections kept as written, not parameters.
    assert!(doc.params.is_empty());
    let titles: Vec<&str> = doc.sections.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(titles, ["Receives", "Warns"]);
}

#[test]
fn sphinx_parameter_fields_of_every_kind() {
    for field in [
        "param",
        "parameter",
        "arg",
        "argument",
        "key",
        "keyword",
        "kwarg",
        "kwparam",
    ] {
        let doc = SphinxStyle.parse(&format!(
            "Do it.\n\n:{field} a: The a.\n:type a: int\n:{field} str b: The b.\n"
        ));
        assert_eq!(names(&doc), ["a", "b"], "{field}");
        assert_eq!(doc.params[0].ty.as_deref(), Some("int"), "{field}");
        assert_eq!(doc.params[1].ty.as_deref(), Some("str"), "{field}");
    }
}

#[test]
fn sphinx_keyword_fields_render_back_as_written() {
    let text = "Do it.\n\n:param a: The a.\n:keyword b: The b.";
    let doc = SphinxStyle.parse(text);
    assert_eq!(doc.params[1].section.as_deref(), Some("keyword"));
    assert_eq!(SphinxStyle.render(&doc, &Default::default()), text);
}

#[test]
fn sphinx_returns_yields_and_raises_fields() {
    for (ret, raise) in [
        ("returns", "raises"),
        ("return", "raise"),
        ("returns", "except"),
        ("return", "exception"),
    ] {
        let doc = SphinxStyle.parse(&format!(
            "Do it.\n\n:{ret}: One.\n:rtype: int\n:yields: Two.\n:ytype: str\n:{raise} ValueError: Three.\n"
        ));
        assert_eq!(
            doc.returns.and_then(|r| r.ty).as_deref(),
            Some("int"),
            "{ret}"
        );
        assert_eq!(doc.yields.and_then(|r| r.ty).as_deref(), Some("str"));
        assert_eq!(doc.raises[0].exception, "ValueError", "{raise}");
    }
}

#[test]
fn a_parameter_section_that_is_not_a_list_of_entries_is_kept_as_written() {
    // argparse's Action documents its keywords as a bulleted list.
    let text = "Do it.\n\nKeyword Arguments:\n\n    - option_strings -- A list of strings.\n    - dest -- The name.";
    let doc = GoogleStyle.parse(text);
    assert!(doc.params.is_empty());
    assert_eq!(doc.sections[0].title, "Keyword Arguments");
    let numpy =
        NumpyStyle.parse("Do it.\n\nParameters\n----------\nSee the class for the parameters.\n");
    assert!(numpy.params.is_empty());
    assert_eq!(numpy.sections[0].title, "Parameters");
}

#[test]
fn escaped_stars_name_variadic_parameters_in_every_style() {
    let sphinx =
        SphinxStyle.parse("Do it.\n\n:param \\*args: More.\n:param \\*\\*kwargs: Options.\n");
    assert_eq!(names(&sphinx), ["*args", "**kwargs"]);
    let google =
        GoogleStyle.parse("Do it.\n\nArgs:\n    \\*args: More.\n    \\*\\*kwargs: Options.\n");
    assert_eq!(names(&google), ["*args", "**kwargs"]);
    let numpy = NumpyStyle.parse("Do it.\n\nParameters\n----------\n\\*args\n    More.\n");
    assert_eq!(names(&numpy), ["*args"]);
}

#[test]
fn a_google_type_may_run_over_several_lines() {
    let doc = GoogleStyle.parse(
        "Convert.\n\nArgs:\n    credentials (Union[client.OAuth2Credentials,\n        client.GoogleCredentials]): The credentials to\n        convert.\n    other: More.\n",
    );
    assert_eq!(names(&doc), ["credentials", "other"]);
    assert_eq!(
        doc.params[0].ty.as_deref(),
        Some("Union[client.OAuth2Credentials, client.GoogleCredentials]")
    );
    assert_eq!(doc.params[0].description, "The credentials to convert.");
}

#[test]
fn a_malformed_entry_among_real_ones_stays_an_entry_under_the_name_it_shows() {
    let doc = NumpyStyle.parse(
        "Reorder.\n\nParameters\n----------\ndim_order dict-like of Hashable to int: optional\n    Mapping.\n**dim_order_kwargs : optional\n    The keyword form.\n",
    );
    assert_eq!(
        names(&doc),
        [
            "dim_order dict-like of Hashable to int",
            "**dim_order_kwargs"
        ]
    );
}
