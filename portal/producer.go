package portal

import "github.com/labstack/echo/v4"

// producerRoutes are the pages producers make and release packages with.
func (p *Portal) producerRoutes(g *echo.Group) {}
