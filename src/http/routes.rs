//! Every route: each resource module contributes its own (`routes(&state)`), each named by its
//! method and OpenAPI path so that the router and the generated document can be compared.

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::error::recover;
use super::params::Route;
use super::{
    AppState, auth, catalog, emails, form, health, notices, openapi, pages, plans, priorities,
    reports, review, visits,
};

fn all(state: &AppState) -> Vec<Route> {
    let mut all = health::routes(state);
    all.extend(openapi::routes());
    all.extend(auth::routes(state));
    all.extend(catalog::routes(state));
    all.extend(priorities::routes(state));
    all.extend(plans::routes(state));
    all.extend(emails::routes(state));
    all.extend(visits::routes(state));
    all.extend(form::routes(state));
    all.extend(notices::routes(state));
    all.extend(review::routes(state));
    all.extend(reports::routes(state));
    all.extend(pages::routes(state));
    all
}

/// The router.
pub fn routes(state: AppState) -> BoxedFilter<(Response,)> {
    // Boxed one by one and folded: a chain of 35 nested `or`s makes types that take rustc
    // minutes to check.
    all(&state)
        .into_iter()
        .map(|r| r.filter)
        .reduce(|a, b| a.or(b).unify().boxed())
        .expect("at least one route")
        .recover(recover)
        .unify()
        .boxed()
}

/// (method, OpenAPI path) of every route the router serves, console pages included.
pub fn route_table(state: &AppState) -> Vec<(&'static str, &'static str)> {
    all(state).iter().map(|r| (r.method, r.path)).collect()
}

/// (method, OpenAPI path) of the API operations: the routes the OpenAPI document must name.
pub fn documented_route_table(state: &AppState) -> Vec<(&'static str, &'static str)> {
    all(state)
        .iter()
        .filter(|r| r.documented)
        .map(|r| (r.method, r.path))
        .collect()
}
