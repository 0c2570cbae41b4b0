package portal

import "github.com/labstack/echo/v4"

// packageRoutes are the pages partners and the public read: the releases
// grid, a package's page, its downloads and takedown confirmation.
func (p *Portal) packageRoutes(g *echo.Group) {}
